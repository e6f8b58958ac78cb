"""Participants: list, profile, ranked openings, one pair explained. Advisers of the
participant's office and admins only; every read is audited per participant."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, status

from api import views
from api.auth import Principal
from api.deps import (
    AdviserOrAdmin,
    ConnDep,
    DatabaseDep,
    Fresh,
    KindFilter,
    Lang,
    Limit,
    Offset,
    ParticipantForAdviser,
    SettingsDep,
    View,
    domain_errors,
    in_thread,
    opening_or_404,
    participant_ref_in_scope,
)
from api.schemas import EventOut, Matches, OpeningIdPath, Page, PairExplanation, ParticipantDetail, ParticipantIdPath, ParticipantSummary
from matching import serving
from matching.config import Settings
from matching.store import Connection, audit, events, participants

router = APIRouter(prefix="/v1/participants", tags=["participants"])


@router.get("", response_model=Page[ParticipantSummary], summary="Participants of your offices")
def list_participants(
    principal: AdviserOrAdmin,
    conn: ConnDep,
    limit: Limit = 50,
    offset: Offset = 0,
    office: str | None = Query(None, description="only this office"),
):
    offices: list[str] | None = None
    if office is not None:
        if not principal.covers(office):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"your token does not cover office {office!r}")
        offices = [office]
    elif not principal.is_admin:
        offices = sorted(principal.offices)
    rows, total = participants.page(conn, offices=offices, limit=limit, offset=offset)
    if rows:
        audit.record_committed(conn.engine, principal, "list_participants", [r["participant_id"] for r in rows])
    return {"items": [views.participant_summary(r) for r in rows], "total": total}


@router.get("/{participant_id}", response_model=ParticipantDetail, summary="A participant's whole profile")
def get_participant(participant: ParticipantForAdviser, principal: AdviserOrAdmin, conn: ConnDep):
    audit.record_committed(conn.engine, principal, "read_profile", [participant["participant_id"]])
    return participant


@router.get("/{participant_id}/matches", response_model=Matches, summary="Ranked openings for a participant")
async def participant_matches(
    participant_id: ParticipantIdPath,
    principal: AdviserOrAdmin,
    db: DatabaseDep,
    kind: KindFilter = "any",
    limit: Limit = 10,
    lang: Lang = "nb",
    fresh: Fresh = False,
    view: View = "personal",
):
    """From the published batch run (`run_id`), or live with `fresh=true` (`run_id` null; also
    live before any run is published, or when the participant has no list in it).
    `view=recommended`: the served run's recommended-now list instead (409 when the run has
    none for this participant; 400 with `fresh=true`: it is made across everyone's lists by the
    batch, never live). Each match carries `allocation`, the run's note on why the opening was
    kept in the recommended-now list or held back from it; `held_back` lists the best fits
    with no room now (not recommended now, with why) and `room` says when that left the list
    short or empty ("nothing with room nearby now").
    `new_since_last_run`: the opening was not on this participant's list in the previous
    published run (false for all when there is no previous run); live lists compare with the
    served run's list. A stored list holds the run's top-K (MATCHING_TOP_K, default 50), so
    `limit` beyond it needs `fresh=true`."""

    def work() -> dict[str, Any]:  # the one thread-pool call of this request (api.deps.Database)
        with db.connect() as conn:
            row = participant_ref_in_scope(conn, principal, participant_id)
            return matches_of(row, principal, conn, db.settings, kind=kind, limit=limit, lang=lang, fresh=fresh, view=view)

    return await in_thread(work)


def matches_of(
    participant: dict[str, Any],
    principal: Principal,
    conn: Connection,
    settings: Settings,
    *,
    kind: str,
    limit: int,
    lang: str,
    fresh: bool,
    view: str = "personal",
) -> dict[str, Any]:
    """GET /v1/participants/{id}/matches for a participant row in the caller's scope (the
    workbench's pages call it too): the list, its reasons and the audit row, committed."""
    pid = participant["participant_id"]
    if view == "recommended" and fresh:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, detail="view=recommended is made by the batch run; it cannot be combined with fresh=true"
        )
    with domain_errors():
        if view == "recommended":
            out = serving.recommended_matches(conn, settings, pid, kind=kind, limit=limit)
        else:
            out = serving.participant_matches(conn, settings, pid, kind=kind, limit=limit, fresh=fresh)
    out["matches"] = views.with_allocation(views.with_reasons(out["matches"], lang, adviser=True), lang)
    if "held_back" in out:  # view=recommended: the best fits held back for want of room, and the list's head
        out["held_back"] = views.with_allocation(views.with_reasons(out["held_back"], lang, adviser=True), lang)
        out["room"] = views.room(out["room"], lang)
    audit.record_committed(conn.engine, principal, "read_matches", [pid], detail=f"run={out['run_id'] or 'live'} kind={kind} view={view}")
    return out


@router.get(
    "/{participant_id}/matches/{opening_id}",
    response_model=PairExplanation,
    summary="One pair: every feature, and any hard constraint it fails",
)
def explain_pair(
    participant: ParticipantForAdviser,
    principal: AdviserOrAdmin,
    conn: ConnDep,
    settings: SettingsDep,
    opening_id: OpeningIdPath,
    lang: Lang = "nb",
):
    opening_or_404(conn, opening_id)
    pid = participant["participant_id"]
    with domain_errors():
        out = views.pair_view(serving.pair_explanation(settings, pid, opening_id, lang), lang)
    audit.record_committed(conn.engine, principal, "explain_pair", [pid], opening_id=opening_id)
    return out


@router.get("/{participant_id}/events", response_model=Page[EventOut], summary="A participant's recorded outcomes")
def participant_events(participant: ParticipantForAdviser, principal: AdviserOrAdmin, conn: ConnDep, limit: Limit = 50, offset: Offset = 0):
    """The outcome timeline (suggested, contacted, …, hired), newest first: what advisers and
    liaison staff recorded and the imported history — the next training run's data."""
    pid = participant["participant_id"]
    items, total = events.for_participant(conn, pid, limit=limit, offset=offset)
    audit.record_committed(conn.engine, principal, "read_events", [pid])
    return {"items": items, "total": total}
