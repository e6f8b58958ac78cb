"""Outcome events (the training data): recorded by the API, read whole by training."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from matching.store import tables as t


class AlreadyRecorded(Exception):
    """The very same event (pair, event, time) is stored already."""


def record(conn: Connection, row: dict[str, Any]) -> None:
    """Insert one event and commit; the same event twice raises AlreadyRecorded (rolled back)."""
    try:
        conn.execute(insert(t.outcomes).values(**row))
        conn.commit()
    except IntegrityError:
        conn.rollback()
        raise AlreadyRecorded(row.get("event_id")) from None


def recorded_by(conn: Connection, participant_id: str, opening_id: str, actor: str) -> bool:
    """Has this actor recorded any event for this pair?"""
    o = t.outcomes
    return (
        conn.execute(
            select(o.c.event_id).where(o.c.participant_id == participant_id, o.c.opening_id == opening_id, o.c.actor == actor).limit(1)
        ).first()
        is not None
    )


EVENT_COLUMNS = ("participant_id", "opening_id", "event", "occurred_at")


def events(conn: Connection) -> list[tuple]:
    """Every event as (participant_id, opening_id, event, occurred_at)."""
    o = t.outcomes
    return [tuple(r) for r in conn.execute(select(*(o.c[c] for c in EVENT_COLUMNS)))]


#: Events that end a trial placement started earlier (the place is free again).
_TRIAL_ENDS = ("hired", "declined_by_participant", "declined_by_employer")


def taken_places(conn: Connection, as_of: dt.date) -> dict[str, int]:
    """Per opening, the places in use up to `as_of` (issue 14's free places = positions minus
    these): a job's hires; a trial placement's active trials — pairs whose latest
    `trial_started` has no later hire or decline. Openings with none are absent."""
    o = t.outcomes
    until = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    rows = conn.execute(
        select(o.c.participant_id, o.c.opening_id, o.c.event, o.c.occurred_at, t.openings.c.kind)
        .join(t.openings, t.openings.c.opening_id == o.c.opening_id)
        .where(o.c.event.in_(("hired", "trial_started", *_TRIAL_ENDS)), o.c.occurred_at < until)
        .order_by(o.c.participant_id, o.c.opening_id, o.c.occurred_at, o.c.event_id)
    )
    last: dict[tuple[str, str], tuple[str, str]] = {}
    for pid, oid, event, _, kind in rows:
        last[(pid, oid)] = (event, kind)  # in time order: the pair's latest event wins
    out: dict[str, int] = {}
    hires = conn.execute(
        select(o.c.opening_id, func.count())
        .join(t.openings, t.openings.c.opening_id == o.c.opening_id)
        .where(o.c.event == "hired", t.openings.c.kind == "job", o.c.occurred_at < until)
        .group_by(o.c.opening_id)
    )
    for oid, n in hires:
        out[oid] = int(n)
    for (_, oid), (event, kind) in last.items():
        if kind == "trial" and event == "trial_started":
            out[oid] = out.get(oid, 0) + 1
    return out


def start_rate(conn: Connection, as_of: dt.date) -> float | None:
    """Share of the pairs suggested before `as_of` that have a start (a hire or a trial start)
    before `as_of`: the history's conversion from a suggestion to a start (issue 14's
    calibration of scores to starts). None: no suggestion in the history."""
    o = t.outcomes
    until = dt.datetime.combine(as_of, dt.time())
    suggested = select(o.c.participant_id, o.c.opening_id).where(o.c.event == "suggested", o.c.occurred_at < until).distinct().subquery()
    started = (
        select(o.c.participant_id, o.c.opening_id)
        .where(o.c.event.in_(("hired", "trial_started")), o.c.occurred_at < until)
        .distinct()
        .subquery()
    )
    n = conn.execute(select(func.count()).select_from(suggested)).scalar_one()
    if not n:
        return None
    hit = conn.execute(
        select(func.count())
        .select_from(suggested)
        .join(started, (started.c.participant_id == suggested.c.participant_id) & (started.c.opening_id == suggested.c.opening_id))
    ).scalar_one()
    return hit / n
