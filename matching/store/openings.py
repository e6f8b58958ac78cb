"""Openings as stored, each with its employer's name (and the employer's adaptations)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select

from matching.store import tables as t


def get(conn: Connection, opening_id: str) -> dict[str, Any] | None:
    """The opening with `employer_name` and `employer_adaptations`, or None."""
    o, e = t.openings, t.employers
    stmt = (
        select(o, e.c.name.label("employer_name"), e.c.adaptations_offered.label("employer_adaptations"))
        .join(e, e.c.orgnr == o.c.orgnr)
        .where(o.c.opening_id == opening_id)
    )
    row = conn.execute(stmt).first()
    return None if row is None else dict(row._mapping)


def page(
    conn: Connection, *, status: str | None, kind: str | None, office: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Openings ordered by id, filtered, with `employer_name`, and the total."""
    o, e = t.openings, t.employers
    where = []
    if status is not None:
        where.append(o.c.status == status)
    if kind is not None:
        where.append(o.c.kind == kind)
    if office is not None:
        where.append(o.c.office_id == office)
    total = conn.execute(select(func.count()).select_from(o).where(*where)).scalar_one()
    stmt = (
        select(o, e.c.name.label("employer_name"))
        .join(e, e.c.orgnr == o.c.orgnr)
        .where(*where)
        .order_by(o.c.opening_id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)], int(total)


def summaries(conn: Connection, opening_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """{opening_id: {opening_id, kind, title, employer_name, orgnr}} for those that exist."""
    ids = list(opening_ids)
    if not ids:
        return {}
    o, e = t.openings, t.employers
    stmt = (
        select(o.c.opening_id, o.c.kind, o.c.title, e.c.name.label("employer_name"), o.c.orgnr)
        .join(e, e.c.orgnr == o.c.orgnr)
        .where(o.c.opening_id.in_(ids))
    )
    return {r.opening_id: dict(r._mapping) for r in conn.execute(stmt)}
