"""Openings (any role) and an opening's ranked candidates (liaison of its office, admin)."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from api import views
from api.deps import (
    ConnDep,
    CurrentPrincipal,
    Fresh,
    Lang,
    LiaisonOrAdmin,
    Limit,
    Offset,
    OpeningForLiaison,
    SettingsDep,
    domain_errors,
    opening_or_404,
)
from api.schemas import Candidates, OpeningDetail, OpeningIdPath, OpeningSummary, Page
from matching import serving
from matching.store import audit, openings

router = APIRouter(prefix="/v1/openings", tags=["openings"])


@router.get("", response_model=Page[OpeningSummary], summary="Openings and trial placements")
def list_openings(
    principal: CurrentPrincipal, conn: ConnDep, limit: Limit = 50, offset: Offset = 0,
    status: Literal["open", "filled", "closed"] | None = Query(None),
    kind: Literal["job", "trial"] | None = Query(None),
    office: str | None = Query(None),
):
    items, total = openings.page(conn, status=status, kind=kind, office=office, limit=limit, offset=offset)
    return {"items": items, "total": total}


@router.get("/{opening_id}", response_model=OpeningDetail, summary="One opening")
def get_opening(opening_id: OpeningIdPath, principal: CurrentPrincipal, conn: ConnDep):
    return opening_or_404(conn, opening_id)


@router.get("/{opening_id}/candidates", response_model=Candidates, summary="Ranked participants for an opening")
def opening_candidates(
    opening: OpeningForLiaison, principal: LiaisonOrAdmin, conn: ConnDep, settings: SettingsDep,
    limit: Limit = 10, lang: Lang = "nb", fresh: Fresh = False,
):
    """Participants are pseudonymous, and the list is employer-facing for every role: ranked
    and explained with each participant at the centre of their home area (distances as bands)
    and, unless they consented to share them, without their adaptation needs — nothing in it
    depends on a non-consenting participant's needs or on anyone's exact home."""
    oid = opening["opening_id"]
    with domain_errors():
        out = serving.opening_candidates(conn, settings, oid, limit=limit, fresh=fresh)
    out["candidates"] = views.with_reasons(out["candidates"], lang)
    ids = [c["participant_id"] for c in out["candidates"]]
    if ids:
        audit.record(conn, principal, "read_candidates", ids, opening_id=oid)
        conn.commit()
    return out
