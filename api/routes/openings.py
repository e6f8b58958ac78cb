"""Openings (any role) and an opening's ranked candidates (liaison of its office, admin)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from api import views
from api.auth import Principal
from api.deps import (
    ConnDep,
    CurrentPrincipal,
    DatabaseDep,
    Fresh,
    Lang,
    LiaisonOrAdmin,
    Limit,
    Offset,
    SettingsDep,
    StaffRole,
    domain_errors,
    ensure_office,
    in_thread,
    liaison_opening,
    opening_or_404,
)
from api.schemas import Candidates, EventOut, OpeningDetail, OpeningIdPath, OpeningSummary, Page
from matching import serving
from matching.config import Settings
from matching.contacts import capacity
from matching.store import Connection, audit, contacts, directory, events, openings

router = APIRouter(prefix="/v1/openings", tags=["openings"])


@router.get("", response_model=Page[OpeningSummary], summary="Openings and trial placements")
def list_openings(
    principal: CurrentPrincipal,
    conn: ConnDep,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Literal["open", "filled", "closed"] | None = Query(None),
    kind: Literal["job", "trial"] | None = Query(None),
    office: str | None = Query(None),
):
    items, total = openings.page(conn, status=status, kind=kind, office=office, limit=limit, offset=offset)
    return {"items": items, "total": total}


@router.get("/{opening_id}", response_model=OpeningDetail, summary="One opening")
def get_opening(opening_id: OpeningIdPath, principal: CurrentPrincipal, conn: ConnDep, settings: SettingsDep):
    """Staff (adviser, liaison, admin) also get the employer's contact person and what is
    left of its monthly contact cap."""
    row = opening_or_404(conn, opening_id)
    if principal.role in ("adviser", "liaison", "admin"):
        row.update(directory.employer_contact(conn, row["orgnr"]))
        row["employer_contacts"] = employer_contacts(conn, row["orgnr"], settings.as_of())
    return row


def employer_contacts(conn, orgnr: str, day) -> dict | None:
    """The employer's contact cap on `day` (`matching.contacts.capacity`); None if unknown."""
    found = capacity(contacts.history(conn, orgnrs=[orgnr]), day)
    return {k: v for k, v in found[0].items() if k != "orgnr"} if found else None


@router.get("/{opening_id}/candidates", response_model=Candidates, summary="Ranked participants for an opening")
async def opening_candidates(
    opening_id: OpeningIdPath,
    principal: LiaisonOrAdmin,
    db: DatabaseDep,
    limit: Limit = 10,
    lang: Lang = "nb",
    fresh: Fresh = False,
):
    """Participants are pseudonymous, and the list is employer-facing for every role: ranked
    and explained with each participant at the centre of their home area (distances as bands)
    and, unless they consented to share them, without their adaptation needs — nothing in it
    depends on a non-consenting participant's needs or on anyone's exact home."""

    def work() -> dict[str, Any]:  # the one thread-pool call of this request (api.deps.Database)
        with db.connect() as conn:
            row = liaison_opening(opening_id, principal, conn)
            return candidates_of(row, principal, conn, db.settings, limit=limit, lang=lang, fresh=fresh)

    return await in_thread(work)


def candidates_of(
    opening: dict[str, Any], principal: Principal, conn: Connection, settings: Settings, *, limit: int, lang: str, fresh: bool
) -> dict[str, Any]:
    """GET /v1/openings/{id}/candidates for an opening row in the caller's scope (the
    workbench's pages call it too): the list, its reasons and the audit row, committed."""
    oid = opening["opening_id"]
    with domain_errors():
        out = serving.opening_candidates(conn, settings, oid, limit=limit, fresh=fresh)
    out["candidates"] = views.with_reasons(out["candidates"], lang)
    ids = [c["participant_id"] for c in out["candidates"]]
    if ids:
        audit.record_committed(conn.engine, principal, "read_candidates", ids, opening_id=oid)
    return out


@router.get("/{opening_id}/events", response_model=Page[EventOut], summary="An opening's recorded outcomes")
def opening_events(opening_id: OpeningIdPath, principal: StaffRole, conn: ConnDep, limit: Limit = 50, offset: Offset = 0):
    """The opening's outcome timeline, newest first. Liaison staff of the opening's office and
    admins read all of it (another office's opening is a 403, as for its candidates); an
    adviser reads the events of their own offices' participants only. Audited per participant."""
    opening = opening_or_404(conn, opening_id)
    scope = None
    if principal.role == "liaison":
        ensure_office(principal, opening["office_id"], "opening")
    elif principal.role == "adviser":
        scope = principal.offices
    items, total = events.for_opening(conn, opening_id, participant_offices=scope, limit=limit, offset=offset)
    audit.record_committed(conn.engine, principal, "read_opening_events", [e["participant_id"] for e in items], opening_id=opening_id)
    return {"items": items, "total": total}
