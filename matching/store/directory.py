"""Offices, employers and openings as the workbench lists them (no participant data here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select

from matching.store import tables as t


def offices(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(t.offices).order_by(t.offices.c.office_id))]


def office_exists(conn: Connection, office_id: str) -> bool:
    return conn.execute(select(t.offices.c.office_id).where(t.offices.c.office_id == office_id)).first() is not None


def employer(conn: Connection, orgnr: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.employers).where(t.employers.c.orgnr == orgnr)).first()
    return dict(row._mapping) if row else None


def employer_contact(conn: Connection, orgnr: str) -> dict[str, Any]:
    row = conn.execute(select(t.employers.c.contact_name, t.employers.c.contact_email).where(t.employers.c.orgnr == orgnr)).first()
    return dict(row._mapping) if row else {"contact_name": None, "contact_email": None}


def openings(
    conn: Connection,
    *,
    offices: Iterable[str] | None,
    orgnr: str | None = None,
    kind: str | None = None,
    status: str | None = "open",
    deadline_before: dt.date | None = None,
    employer_q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Openings with their employer's name, by deadline (none last); `offices=None` is every office."""
    o, e = t.openings, t.employers
    where: list[Any] = []
    if offices is not None:
        where.append(o.c.office_id.in_(sorted(offices)))
    if orgnr is not None:
        where.append(o.c.orgnr == orgnr)
    if kind is not None:
        where.append(o.c.kind == kind)
    if status is not None:
        where.append(o.c.status == status)
    if deadline_before is not None:
        where.append(o.c.deadline <= deadline_before)
    if employer_q:
        where.append(func.lower(e.c.name).contains(employer_q.lower(), autoescape=True))
    joined = o.join(e, e.c.orgnr == o.c.orgnr)
    total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
    stmt = (
        select(o, e.c.name.label("employer_name"))
        .select_from(joined)
        .where(*where)
        .order_by(o.c.deadline.is_(None), o.c.deadline, o.c.opening_id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)], int(total)


def opening_places(conn: Connection, opening_ids: list[str]) -> dict[str, tuple[float, float]]:
    """(lat, lon) of each opening (for the adviser's map)."""
    if not opening_ids:
        return {}
    o = t.openings
    return {
        r.opening_id: (r.lat, r.lon) for r in conn.execute(select(o.c.opening_id, o.c.lat, o.c.lon).where(o.c.opening_id.in_(opening_ids)))
    }


def caseload(
    conn: Connection, *, adviser: str, offices: Iterable[str] | None, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Participants of `offices` (None: every office): those assigned to `adviser` first, then
    the others, each by id."""
    p = t.participants
    where = [] if offices is None else [p.c.office_id.in_(sorted(offices))]
    total = conn.execute(select(func.count()).select_from(p).where(*where)).scalar_one()
    mine = p.c.adviser_id == adviser
    stmt = select(p).where(*where).order_by(func.coalesce(mine, False).desc(), p.c.participant_id).limit(limit).offset(offset)
    return [dict(r._mapping) for r in conn.execute(stmt)], int(total)
