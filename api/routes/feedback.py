"""Outcome events (suggested, contacted, …, hired): the training data of the next model."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, status
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from api.deps import ConnDep, FeedbackRole, SettingsDep, ensure_office, opening_or_404, participant_or_404
from api.schemas import FeedbackIn, FeedbackOut
from api.service import still_eligible
from matching.schema import Outcome
from matching.store import tables as t
from matching.store.load import outcome_event_id

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


def _utc_naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


@router.post("", response_model=FeedbackOut, status_code=status.HTTP_201_CREATED, summary="Record an outcome")
def record_feedback(body: FeedbackIn, principal: FeedbackRole, conn: ConnDep, settings: SettingsDep):
    """Advisers record outcomes for participants of their offices, liaison staff for openings
    of their offices, admins for any. A liaison may only speak of a participant who is
    already in that opening's history or is a candidate for it today (not of anyone in the
    region). The actor is the token's `sub`; `occurred_at` defaults to now (UTC). Posting the
    very same event (pair, event, time) twice is a 409."""
    participant = participant_or_404(conn, body.participant_id)
    opening = opening_or_404(conn, body.opening_id)
    if principal.role == "adviser":
        ensure_office(principal, participant["office_id"], "participant")
    elif principal.role == "liaison":
        ensure_office(principal, opening["office_id"], "opening")
        known = conn.execute(select(t.outcomes.c.event_id).where(
            t.outcomes.c.participant_id == body.participant_id, t.outcomes.c.opening_id == body.opening_id).limit(1)).first()
        if known is None and not still_eligible(settings, [body.participant_id], [body.opening_id])[0]:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail="this participant is not a candidate for this opening and has no history with it")
    occurred = _utc_naive(body.occurred_at) if body.occurred_at else dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        outcome = Outcome(participant_id=body.participant_id, opening_id=body.opening_id, event=body.event,
                          reason=body.reason, occurred_at=occurred, actor=principal.sub)
    except ValidationError as exc:  # pragma: no cover - FeedbackIn already enforces the same rules
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=exc.errors(include_url=False)) from None
    row = {**outcome.model_dump(), "event_id": outcome_event_id(outcome)}
    try:
        conn.execute(insert(t.outcomes).values(**row))
        conn.commit()
    except IntegrityError:
        conn.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, detail="this event is already recorded") from None
    return row
