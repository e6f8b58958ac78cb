"""Matches for a profile posted in the body: scored like a stored participant, never stored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, status

from api import views
from api.auth import Principal
from api.deps import AdviserOrAdmin, DatabaseDep, KindFilter, Lang, Limit, domain_errors, in_thread
from api.schemas import Matches, ParticipantProfile
from matching import normalise, serving
from matching.config import Settings
from matching.store import Connection, audit, directory

router = APIRouter(prefix="/v1/match", tags=["matches"])

PROFILE_EXAMPLE = {
    "postal_code": "7030",
    "max_commute_km": 15,
    "desired_titles": ["Butikkmedarbeider"],
    "desired_styrk08": ["5223"],
    "skills": ["kassearbeid"],
    "goal": "either",
}
PROFILE_EXAMPLES = {"profile": {"summary": "a participant in Trondheim", "value": PROFILE_EXAMPLE}}


@router.post("", response_model=Matches, summary="Ranked openings for a profile that is not stored")
async def match_profile(
    body: Annotated[ParticipantProfile, Body(openapi_examples=PROFILE_EXAMPLES)],
    principal: AdviserOrAdmin,
    db: DatabaseDep,
    kind: KindFilter = "any",
    limit: Limit = 10,
    lang: Lang = "nb",
):
    """The body is a participant profile: exactly what GET /v1/participants/{id} returns is
    accepted (change a field and post it back — a what-if); its `participant_id`,
    `registered_at`, `adviser_id` and `birth_year` are optional and ignored; `office_id`, also
    optional, says whose office's openings count as the participant's own (none without it;
    openings are public to every role, so this reveals nothing). Desired titles are normalised to
    STYRK-08 when `desired_styrk08` is empty. Nothing about the profile is stored (the audit
    log notes only that a profile was matched, by whom)."""

    def work() -> dict[str, Any]:  # the one thread-pool call of this request (api.deps.Database)
        with db.connect() as conn:
            return profile_matches(body, principal, conn, db.settings, kind=kind, limit=limit, lang=lang)

    return await in_thread(work)


def profile_matches(
    body: ParticipantProfile, principal: Principal, conn: Connection, settings: Settings, *, kind: str, limit: int, lang: str
) -> dict[str, Any]:
    """POST /v1/match for a validated body (the workbench's what-if page calls it too): the
    list, its reasons and the audit row, committed."""
    profile = body.profile()
    try:
        row = normalise.participant(profile)
    except normalise.UnrecognisedTitles as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[
                {
                    "loc": ["body", exc.field],
                    "msg": str(exc),
                    "type": "value_error",
                    "input": profile.desired_titles,
                }
            ],
        ) from None
    if body.office_id and not directory.office_exists(conn, body.office_id):
        # A typo would otherwise rank silently as if no office listed anything (issue 13).
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[{"loc": ["body", "office_id"], "msg": "unknown NAV office", "type": "value_error", "input": body.office_id}],
        )
    row.update(participant_id="(posted profile)", office_id=body.office_id or "", registered_at=None)
    with domain_errors():
        out = serving.profile_matches(conn, settings, row, kind=kind, limit=limit)
    out["matches"] = views.with_reasons(out["matches"], lang, adviser=True)
    audit.record_committed(conn.engine, principal, "match_profile", detail=f"kind={kind}")
    return out
