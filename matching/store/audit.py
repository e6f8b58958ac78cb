"""The audit log: who read which participant's data, when (GDPR art. 9 accountability).

One row per participant read: a list of twenty candidates is twenty rows, which is what lets
a data owner answer "who has seen participant P?" with one indexed query. Two ways to write:

- `record(conn, …)`: in the caller's transaction, so a write and its log entry commit together
  (feedback, model promotion).
- `record_committed(engine, …)`: for a read, whose answer must not leave before its row is
  committed. Group commit (`_write`): the rows of every request of the process waiting to be
  audited are inserted and committed together, by whichever of them holds the commit lock;
  each caller returns only once its rows are committed, and gets the error if they could not
  be. Concurrent readers no longer each take SQLite's write lock in turn (under load its busy
  handler slept between retries: the tail of a stored read), and one commit serves many.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, insert, select

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
    rows = _rows(actor, action, participant_ids, opening_id, detail)
    conn.execute(insert(t.audit_log), rows)
    return len(rows)


def _rows(actor: Actor, action: str, participant_ids: Iterable[str], opening_id: str | None, detail: str | None) -> list[dict[str, Any]]:
    base = {"at": _now(), "sub": actor.sub, "role": actor.role, "action": action, "opening_id": opening_id, "detail": detail}
    ids = list(dict.fromkeys(participant_ids))
    return [{**base, "participant_id": pid} for pid in ids] or [{**base, "participant_id": None}]


def record_committed(
    engine: Engine,
    actor: Actor,
    action: str,
    participant_ids: Iterable[str] = (),
    opening_id: str | None = None,
    detail: str | None = None,
) -> int:
    """Like `record`, committed on its own (group commit, `_write`) before it returns.

    Raises `Unavailable` if the rows could not be committed: the caller must not answer then.
    Do not call it while holding uncommitted writes on another connection of the same SQLite
    database (the commit would wait for that connection's lock)."""
    rows = _rows(actor, action, participant_ids, opening_id, detail)
    try:
        _write(engine, rows)
    except Exception as exc:
        raise Unavailable(f"audit log unavailable: {type(exc).__name__}") from exc
    return len(rows)


class Unavailable(RuntimeError):
    """The audit rows of a read could not be committed (the API answers 503, not the data)."""


class _Batch:
    __slots__ = ("done", "error", "rows")

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.done = False
        self.error: BaseException | None = None


class _GroupCommit:
    """Rows waiting for a commit on one engine, and the lock of whoever is committing."""

    def __init__(self) -> None:
        self.queue_lock = threading.Lock()
        self.queue: list[_Batch] = []
        self.commit_lock = threading.Lock()


_groups_lock = threading.Lock()
_groups: dict[tuple[int, int], _GroupCommit] = {}


def _group(engine: Engine) -> _GroupCommit:
    # Per process: a forked worker must not inherit a lock some thread of its parent held.
    key = (os.getpid(), id(engine))
    hit = _groups.get(key)
    if hit is None:
        with _groups_lock:
            hit = _groups.setdefault(key, _GroupCommit())
    return hit


def _write(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Group commit without a thread of its own: the caller queues its rows and takes the
    commit lock; whoever holds it commits everything queued so far in one transaction, so a
    caller that waited for the lock usually finds its rows already committed. Returns once the
    rows are committed; raises the database's error if they could not be (each batch is
    retried alone when a shared transaction fails, so one bad batch fails only its caller)."""
    group = _group(engine)
    batch = _Batch(rows)
    with group.queue_lock:
        group.queue.append(batch)
    with group.commit_lock:
        if batch.done:
            if batch.error is not None:
                raise batch.error
            return
        with group.queue_lock:
            batches, group.queue = group.queue, []
        try:
            _commit(engine, [r for b in batches for r in b.rows])
        except Exception:  # noqa: BLE001 - retried one by one, each caller gets its own error
            for b in batches:
                try:
                    _commit(engine, b.rows)
                except Exception as exc:  # noqa: BLE001 - raised in the caller that queued it
                    b.error = exc
        for b in batches:
            b.done = True
    if batch.error is not None:
        raise batch.error


_INSERT = insert(t.audit_log)


def _commit(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(_INSERT, rows)


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
