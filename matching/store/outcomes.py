"""Outcome events (the training data): recorded by the API, read whole by training."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select
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
