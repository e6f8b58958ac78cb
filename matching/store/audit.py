"""The audit log: who read which participant's data, when (GDPR art. 9 accountability).

Rows are written in the caller's transaction, so an audited read and its log entry commit
together. One row per participant read: a list of twenty candidates is twenty rows, which
is what lets a data owner answer "who has seen participant P?" with one indexed query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select

from matching.store import tables as t


class Actor(Protocol):
    """Whoever is reading: the API's token principal satisfies this."""

    @property
    def sub(self) -> str: ...
    @property
    def role(self) -> str: ...


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record(
    conn: Connection,
    actor: Actor,
    action: str,
    participant_ids: Iterable[str] = (),
    opening_id: str | None = None,
    detail: str | None = None,
) -> int:
    """Write one audit row per participant (one row without a participant if there is none).

    Returns the number of rows written. The caller commits.
    """
    at = _now()
    base = {"at": at, "sub": actor.sub, "role": actor.role, "action": action, "opening_id": opening_id, "detail": detail}
    ids = list(dict.fromkeys(participant_ids))
    rows = [{**base, "participant_id": pid} for pid in ids] or [{**base, "participant_id": None}]
    conn.execute(insert(t.audit_log), rows)
    return len(rows)


def entries(
    conn: Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    participant_id: str | None = None,
    sub: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Audit rows, newest first, and the total matching the filters."""
    a = t.audit_log
    where = []
    if participant_id is not None:
        where.append(a.c.participant_id == participant_id)
    if sub is not None:
        where.append(a.c.sub == sub)
    total = conn.execute(select(func.count()).select_from(a).where(*where)).scalar_one()
    stmt = select(a).where(*where).order_by(a.c.id.desc()).limit(limit).offset(offset)
    return [dict(r._mapping) for r in conn.execute(stmt)], int(total)
