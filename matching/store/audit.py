"""The audit log: who read which participant's data, when (GDPR art. 9 accountability).

One row per participant read: a list of twenty candidates is twenty rows, which is what lets
a data owner answer "who has seen participant P?" with one indexed query. Two ways to write:

- `record(conn, …)`: in the caller's transaction, so a write and its log entry commit together
  (feedback, model promotion).
- `record_committed(engine, …)`: for a read, whose answer must not leave before its row is
  committed. The rows go to the process's one audit writer for that database (`Writer`), a
  thread that inserts and commits what every waiting request queued in one transaction (group
  commit) and then releases them: each caller returns only once its rows are committed, and
  gets the error if they could not be. Concurrent readers no longer each take SQLite's write
  lock in turn (under load, its busy handler slept between retries: the tail of a stored read).
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
    """Like `record`, committed on its own (by the process's audit writer) before it returns.

    Raises what the database raised if the rows could not be committed: the caller must not
    answer then. Do not call it while holding uncommitted writes on another connection of the
    same SQLite database (the writer would wait for that connection's lock)."""
    rows = _rows(actor, action, participant_ids, opening_id, detail)
    _write(engine, rows)
    return len(rows)


class _Batch:
    __slots__ = ("done", "error", "rows")

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.done = threading.Event()
        self.error: BaseException | None = None


class Writer:
    """Group commit of audit rows on one engine: one daemon thread takes every batch queued
    since its last commit, inserts them in one transaction, commits, and wakes their callers.
    If that transaction fails, each batch is retried alone, so one bad batch fails only its
    own caller. After `IDLE_SECONDS` without work the thread ends and lets go of the engine
    (the next write starts another)."""

    IDLE_SECONDS = 10.0

    def __init__(self, engine: Engine, key: tuple[int, int]) -> None:
        self.engine = engine
        self._key = key
        self._cond = threading.Condition()
        self._queue: list[_Batch] = []
        self._closed = False
        threading.Thread(target=self._run, name="audit-writer", daemon=True).start()

    def submit(self, batch: _Batch) -> bool:
        """Queue a batch; False if this writer has ended (take a new one)."""
        with self._cond:
            if self._closed:
                return False
            self._queue.append(batch)
            self._cond.notify()
            return True

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._cond.wait(self.IDLE_SECONDS)
                if not self._queue:
                    self._closed = True
                    with _writers_lock:
                        if _writers.get(self._key) is self:
                            del _writers[self._key]
                    return
                batches, self._queue = self._queue, []
            try:
                self._commit([r for b in batches for r in b.rows])
            except Exception:  # noqa: BLE001 - retried one by one below, each caller gets its own error
                for b in batches:
                    try:
                        self._commit(b.rows)
                    except Exception as exc:  # noqa: BLE001 - handed to the waiting caller
                        b.error = exc
            for b in batches:
                b.done.set()

    def _commit(self, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(t.audit_log), rows)


_writers_lock = threading.Lock()
_writers: dict[tuple[int, int], Writer] = {}


def _write(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Queue the rows with this engine's writer in this process (a forked worker starts its
    own: threads do not survive a fork) and wait until they are committed."""
    batch = _Batch(rows)
    key = (os.getpid(), id(engine))  # a live writer holds its engine, so the id is not reused
    while True:
        with _writers_lock:
            current = _writers.get(key)
            if current is None:
                current = _writers[key] = Writer(engine, key)
        if current.submit(batch):
            break
    batch.done.wait()
    if batch.error is not None:
        raise batch.error


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
