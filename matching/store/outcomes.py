"""Outcome events (the training data): recorded by the API, read whole by training."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, case, func, insert, select
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


#: The stages of a chain in flight (suggested → contacted → interview), furthest last, and
#: how long each may sit idle before the chain counts as dead: in the outcome history every
#: next step (a contact, an answer, an interview, a start or a decline) came within 14 days
#: of a suggestion, 21 of a contact and 30 of an interview (data/fixtures, 2024-11 … 2026-11;
#: the 18 % of contacts never answered never moved again). A chain idle longer than its
#: stage's window no longer speaks for a place.
IN_FLIGHT_IDLE_DAYS: dict[str, int] = {"suggested": 14, "contacted": 21, "interview": 30}
_STARTS = ("hired", "trial_started")
_ENDS = (*_STARTS, "declined_by_participant", "declined_by_employer")


def _pair_stages(o: Any, since: dt.datetime | None, until: dt.datetime) -> Any:
    """Per pair with an event in [since, until): its furthest open stage (1 suggested, 2
    contacted, 3 interview, 0 none), the time of its latest open-stage event and of its latest
    end (a start or a decline), and whether it started."""
    stage = case(*((o.c.event == e, i + 1) for i, e in enumerate(IN_FLIGHT_IDLE_DAYS)), else_=0)
    where = [o.c.occurred_at < until] + ([o.c.occurred_at >= since] if since is not None else [])
    return (
        select(
            o.c.participant_id,
            o.c.opening_id,
            func.max(stage).label("stage"),
            func.max(case((o.c.event.in_(tuple(IN_FLIGHT_IDLE_DAYS)), o.c.occurred_at))).label("last_open"),
            func.max(case((o.c.event.in_(_ENDS), o.c.occurred_at))).label("last_end"),
            func.max(case((o.c.event.in_(_STARTS), 1), else_=0)).label("started"),
        )
        .where(*where)
        .group_by(o.c.participant_id, o.c.opening_id)
    )


def stage_start_rates(conn: Connection, as_of: dt.date) -> dict[str, float]:
    """Per stage of a chain (suggested / contacted / interview): the share of the pairs that
    reached it before `as_of` that started (a hire or a trial start) before `as_of` — the
    history's conversion from that stage to a start. Pairs still in flight at `as_of` (latest
    event an open stage, within the longest idle window) are left out: their end is not known
    yet. A stage nobody reached is absent."""
    o = t.outcomes
    until = dt.datetime.combine(as_of, dt.time())
    recent = until - dt.timedelta(days=max(IN_FLIGHT_IDLE_DAYS.values()))
    pairs = _pair_stages(o, None, until).subquery()
    open_ = (pairs.c.last_open.is_not(None)) & ((pairs.c.last_end.is_(None)) | (pairs.c.last_end < pairs.c.last_open))
    settled = ~(open_ & (pairs.c.last_open >= recent))
    cols = []
    for i in range(1, len(IN_FLIGHT_IDLE_DAYS) + 1):
        cols += [func.sum(case((pairs.c.stage >= i, 1), else_=0)), func.sum(case((pairs.c.stage >= i, pairs.c.started), else_=0))]
    row = conn.execute(select(*cols).where(settled)).one()
    out: dict[str, float] = {}
    for i, name in enumerate(IN_FLIGHT_IDLE_DAYS):
        n, hit = int(row[2 * i] or 0), int(row[2 * i + 1] or 0)
        if n:
            out[name] = hit / n
    return out


def in_flight(
    conn: Connection, as_of: dt.date, rates: dict[str, float] | None = None, *, counts: dict[str, int] | None = None
) -> dict[str, float]:
    """Per opening, the expected starts of the chains in flight at `as_of` (issue 14's places
    spoken for): each pair whose latest event before `as_of` is suggested / contacted /
    interview (no start or decline after it) and at most its stage's idle window
    (`IN_FLIGHT_IDLE_DAYS`) old, weighted by the history's conversion from its furthest stage
    to a start (`stage_start_rates`, before `as_of` only; `rates` to pass them). One grouped
    query over the last window's events. Openings with none are absent. `counts`, if given, is
    filled with the number of those chains per opening (the people in process with it)."""
    rates = stage_start_rates(conn, as_of) if rates is None else rates
    o = t.outcomes
    until = dt.datetime.combine(as_of, dt.time())
    since = until - dt.timedelta(days=max(IN_FLIGHT_IDLE_DAYS.values()))
    pairs = _pair_stages(o, since, until).subquery()
    rows = conn.execute(
        select(pairs.c.opening_id, pairs.c.stage, pairs.c.last_open).where(
            pairs.c.stage > 0, (pairs.c.last_end.is_(None)) | (pairs.c.last_end < pairs.c.last_open)
        )
    )
    names = list(IN_FLIGHT_IDLE_DAYS)
    out: dict[str, float] = {}
    for oid, stage, last_open in rows:
        name = names[int(stage) - 1]
        if isinstance(last_open, str):  # SQLite hands back an aggregate's datetime as text
            last_open = dt.datetime.fromisoformat(last_open)
        if last_open < until - dt.timedelta(days=IN_FLIGHT_IDLE_DAYS[name]) or not rates.get(name):
            continue
        out[oid] = out.get(oid, 0.0) + rates[name]
        if counts is not None:
            counts[oid] = counts.get(oid, 0) + 1
    return out
