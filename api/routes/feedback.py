"""Outcome events (suggested, contacted, …, hired): the training data of the next model."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import ValidationError

from api.deps import (
    ConnDep,
    FeedbackRole,
    SettingsDep,
    domain_errors,
    ensure_office,
    opening_or_404,
    participant_not_found,
    participant_or_404,
    participant_ref_in_scope,
)
from api.schemas import FeedbackIn, FeedbackOut
from matching import serving
from matching.schema import Outcome
from matching.store import lists, outcomes
from matching.store.load import outcome_event_id

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


def _utc_naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


@router.post("", response_model=FeedbackOut, status_code=status.HTTP_201_CREATED, summary="Record an outcome")
def record_feedback(body: FeedbackIn, principal: FeedbackRole, conn: ConnDep, settings: SettingsDep, request: Request):
    """Advisers record outcomes for participants of their offices, liaison staff for openings
    of their offices, admins for any. The actor is the token's `sub`; `occurred_at` defaults
    to now (UTC). Posting the very same event (pair, event, time) twice is a 409.

    A liaison may only speak of a participant they have been shown for that opening: listed
    among its candidates now (what `GET /v1/openings/{id}/candidates` shows, up to the run's
    K) or in the served or previous run, or someone they recorded an event for themselves
    (so "hired" can follow "contacted" after the opening is filled). Anyone else — another
    office's participant, someone not listed, an id that does not exist, a pair with history
    recorded by others — gets the same 404, so the endpoint tells a liaison nothing they could
    not read already (no oracle for "is X a candidate here", "does X exist" or "has X history
    here"). The body is validated in full before any of this, so a 422 tells nothing either.
    An adviser's participant outside their offices is the same 404 as an unknown id."""
    request.state.audit_participant, request.state.audit_opening = body.participant_id, body.opening_id
    outcome = _outcome(body, principal.sub, settings)
    opening = opening_or_404(conn, body.opening_id)
    if principal.role == "liaison":
        ensure_office(principal, opening["office_id"], "opening")
        if not _liaison_may_record(conn, settings, principal.sub, body.participant_id, body.opening_id):
            raise participant_not_found(body.participant_id)
    elif principal.role == "adviser":
        participant_ref_in_scope(conn, principal, body.participant_id)
    else:
        participant_or_404(conn, body.participant_id)
    row = {**outcome.model_dump(), "event_id": outcome_event_id(outcome)}
    try:
        outcomes.record(conn, row)
    except outcomes.AlreadyRecorded:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="this event is already recorded") from None
    return row


def _outcome(body: FeedbackIn, actor: str, settings: SettingsDep) -> Outcome:
    """The event as stored, validated by the data contract (422 naming the field)."""
    occurred = _utc_naive(body.occurred_at) if body.occurred_at else dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # An event recorded now happened now, even on a server whose "today" is pinned to the past.
    today = max(settings.as_of(), dt.datetime.now(dt.UTC).date())
    try:
        return Outcome.model_validate(
            {
                "participant_id": body.participant_id,
                "opening_id": body.opening_id,
                "event": body.event,
                "reason": body.reason,
                "occurred_at": occurred,
                "actor": actor,
            },
            context={"today": today},
        )
    except ValidationError as exc:
        errors = [{"loc": ["body", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=errors) from None


def _liaison_may_record(conn: ConnDep, settings: SettingsDep, sub: str, participant_id: str, opening_id: str) -> bool:
    """Has this liaison been shown this participant for this opening (or recorded one)?"""
    if outcomes.recorded_by(conn, participant_id, opening_id, sub):
        return True
    served = lists.serving(conn)
    for run_id in (served.run_id, served.previous_run_id) if served else ():
        # only runs whose opening lists were employer-facing (what a liaison could be shown)
        if run_id is None or lists.employer_view_of(conn, run_id) is None:
            continue
        if any(r["participant_id"] == participant_id for r in lists.opening_list(conn, run_id, opening_id)):
            return True
    with domain_errors():
        listed = serving.opening_candidates(conn, settings, opening_id, limit=settings.top_k, fresh=False)
    return any(c["participant_id"] == participant_id for c in listed["candidates"])
