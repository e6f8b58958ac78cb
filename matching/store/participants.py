"""Participants as stored: one profile by id, a page of them, and who consents to share needs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from matching.store import tables as t

_GET = select(t.participants).where(t.participants.c.participant_id == bindparam("participant_id"))  # built once: every read asks


def get(conn: Connection, participant_id: str) -> dict[str, Any] | None:
    """The whole stored profile, or None."""
    row = conn.execute(_GET, {"participant_id": participant_id}).first()
    return None if row is None else dict(row._mapping)


_OFFICE = select(t.participants.c.office_id).where(t.participants.c.participant_id == bindparam("participant_id"))


def office_of(conn: Connection, participant_id: str) -> str | None:
    """The participant's office, or None if there is no such participant: all a read of their
    list needs to check the caller's scope (the whole profile is ~25 columns to convert)."""
    return conn.execute(_OFFICE, {"participant_id": participant_id}).scalar()


def page(conn: Connection, *, offices: Iterable[str] | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Profiles ordered by id (of these offices; every office when None) and their total."""
    p = t.participants
    where = [] if offices is None else [p.c.office_id.in_(sorted(offices))]
    total = conn.execute(select(func.count()).select_from(p).where(*where)).scalar_one()
    rows = conn.execute(select(p).where(*where).order_by(p.c.participant_id).limit(limit).offset(offset))
    return [dict(r._mapping) for r in rows], int(total)


def first(conn: Connection) -> tuple[str, str] | None:
    """Some participant's id and office (the `matching run` example), or None if there are none."""
    p = t.participants
    row = conn.execute(select(p.c.participant_id, p.c.office_id).order_by(p.c.participant_id).limit(1)).first()
    return None if row is None else (row.participant_id, row.office_id)


def sharing_needs(conn: Connection) -> frozenset[str]:
    """Ids of those who consent, now, to share their adaptation needs with employers."""
    p = t.participants
    return frozenset(conn.execute(select(p.c.participant_id).where(p.c.shares_needs_with_employers.is_(True))).scalars())
