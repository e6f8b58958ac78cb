"""Reference taxonomies for the adviser UI: STYRK-08 occupations for a typed title (typeahead).

Any authenticated role; no participant data is read, so nothing is audit-logged.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from api.deps import CurrentPrincipal
from matching.taxonomy import occupations

router = APIRouter(prefix="/v1/taxonomy", tags=["taxonomy"])


class OccupationSuggestion(BaseModel):
    code: str
    name_nb: str
    score: float


class OccupationSuggestions(BaseModel):
    q: str
    items: list[OccupationSuggestion]


@router.get("/occupations", response_model=OccupationSuggestions, summary="STYRK-08 occupations for a (partly) typed title")
def occupation_suggestions(
    principal: CurrentPrincipal,
    q: Annotated[str, Query(min_length=1, max_length=200, description="title text, e.g. 'truckf'")],
    limit: Annotated[int, Query(ge=1, le=50, description="suggestions, 1-50")] = 10,
):
    """Ranked 4-digit codes with their bokmål names; score is a 0-1 confidence. Prefixes
    ("lager", "truckf") are matched against known titles first, then the title classifier."""
    from matching.taxonomy.titles import suggest_titles

    if not q.strip():
        raise HTTPException(status_code=422, detail=[{"loc": ["query", "q"], "msg": "q must not be blank", "type": "value_error"}])
    items = [{"code": code, "name_nb": occupations.name(code), "score": score} for code, score in suggest_titles(q, limit)]
    return {"q": q, "items": items}
