"""Reading back the outcome timeline (what advisers and liaison staff recorded, and the
imported history): per participant, per opening, per employer, and the last event of many
participants at once (the caseload). Writing stays in the feedback route and the loader."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select

from matching.store import tables as t


def _timeline(conn: Connection, *where: Any, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    o, op, e = t.outcomes, t.openings, t.employers
    total = conn.execute(select(func.count()).select_from(o.join(op, op.c.opening_id == o.c.opening_id)).where(*where)).scalar_one()
    stmt = (
        select(o, op.c.title, op.c.kind, op.c.office_id.label("opening_office_id"), e.c.orgnr, e.c.name.label("employer_name"))
        .join(op, op.c.opening_id == o.c.opening_id)
        .join(e, e.c.orgnr == op.c.orgnr)
        .where(*where)
        .order_by(o.c.occurred_at.desc(), o.c.event_id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)], int(total)


def for_participant(conn: Connection, participant_id: str, *, limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The participant's events, newest first, with each opening's title and employer."""
    return _timeline(conn, t.outcomes.c.participant_id == participant_id, limit=limit, offset=offset)


def for_opening(
    conn: Connection, opening_id: str, *, participant_offices: Iterable[str] | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """The opening's events, newest first; only those of participants of `participant_offices`
    when given (an adviser reads about their own offices' participants only)."""
    where = [t.outcomes.c.opening_id == opening_id]
    if participant_offices is not None:
        p = t.participants
        where.append(t.outcomes.c.participant_id.in_(select(p.c.participant_id).where(p.c.office_id.in_(sorted(participant_offices)))))
    return _timeline(conn, *where, limit=limit, offset=offset)


def for_employer(conn: Connection, orgnr: str, *, limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Every event on the employer's openings, newest first (its contact history)."""
    return _timeline(conn, t.openings.c.orgnr == orgnr, limit=limit, offset=offset)


def last_events(conn: Connection, participant_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each participant's most recent event (if any)."""
    if not participant_ids:
        return {}
    o = t.outcomes
    latest = (
        select(o.c.participant_id, func.max(o.c.occurred_at).label("at"))
        .where(o.c.participant_id.in_(participant_ids))
        .group_by(o.c.participant_id)
        .subquery()
    )
    stmt = (
        select(o.c.participant_id, o.c.event, o.c.opening_id, o.c.occurred_at)
        .join(latest, (latest.c.participant_id == o.c.participant_id) & (latest.c.at == o.c.occurred_at))
        .order_by(o.c.participant_id, o.c.event_id)
    )
    return {r.participant_id: dict(r._mapping) for r in conn.execute(stmt)}
