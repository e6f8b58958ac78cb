"""Batch runs as stored: the refresh lock, a run's row, its lists being written, publishing
(one pointer flip), pruning, and what the API reads about runs.

One refresh at a time: a lock row names the refresh that may write; a new refresh refuses to
start while that process lives, and otherwise discards the dead run's leftovers.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from matching.schema import RunStatus
from matching.store import tables as t

#: A lock held from another host counts as dead once its heartbeat is this old.
STALE_AFTER = dt.timedelta(minutes=15)


class RefreshInProgress(RuntimeError):
    """Another refresh holds the lock and its process is alive."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(owner: str | None, heartbeat: dt.datetime | None) -> bool:
    """Is the lock holder still refreshing? Never this very process (it would not be asking);
    on this host its pid must exist *and* its heartbeat be recent (pids get reused); on another
    host only the heartbeat can tell."""
    if owner == _owner():
        return False
    recent = heartbeat is not None and _now() - heartbeat < STALE_AFTER
    host, _, pid = (owner or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    return recent


# ---------------------------------------------------------------------------- the refresh lock


def acquire(conn: Connection, run_id: str) -> None:
    """Take the refresh lock (compare-and-swap), or raise RefreshInProgress."""
    row = conn.execute(select(t.refresh_lock).where(t.refresh_lock.c.id == 1)).one_or_none()
    values = {"run_id": run_id, "owner": _owner(), "heartbeat_at": _now()}
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(t.refresh_lock).values(id=1, **values))
        except IntegrityError:
            raise RefreshInProgress("another refresh took the lock just now") from None
        return
    if row.run_id is not None and _alive(row.owner, row.heartbeat_at):
        raise RefreshInProgress(f"refresh {row.run_id} is still running ({row.owner}); not starting another")
    swapped = conn.execute(
        update(t.refresh_lock)
        .where(
            t.refresh_lock.c.id == 1,
            t.refresh_lock.c.owner == row.owner,
            t.refresh_lock.c.run_id.is_(None) if row.run_id is None else t.refresh_lock.c.run_id == row.run_id,
        )
        .values(**values)
    )
    if swapped.rowcount != 1:
        raise RefreshInProgress("another refresh took the lock just now")


def release(conn: Connection, run_id: str) -> None:
    conn.execute(
        update(t.refresh_lock).where(t.refresh_lock.c.id == 1, t.refresh_lock.c.run_id == run_id).values(run_id=None, heartbeat_at=_now())
    )


def heartbeat(conn: Connection, run_id: str) -> None:
    conn.execute(update(t.refresh_lock).where(t.refresh_lock.c.id == 1, t.refresh_lock.c.run_id == run_id).values(heartbeat_at=_now()))


# ---------------------------------------------------------------------------- a run's life


def start(
    conn: Connection,
    run_id: str,
    *,
    as_of: dt.date,
    model_version: str,
    backend: str,
    top_k: int,
    data_version: int | None = None,
    gate: dict[str, Any] | None = None,
) -> None:
    """`data_version`: the version read before the run reads its snapshot (tables.runs);
    `gate`: the promotion gate's verdict before the run (`gate_candidate`, `gate_decision`,
    `gate_detail`; matching/gate.py), if it was gated."""
    conn.execute(
        insert(t.runs).values(
            run_id=run_id,
            status=RunStatus.running,
            started_at=_now(),
            as_of=as_of,
            model_version=model_version,
            backend=backend,
            top_k=top_k,
            data_version=data_version,
            **(gate or {}),
        )
    )


@contextmanager
def _lists_deleted_fast(conn: Connection) -> Iterator[None]:
    """SQLite: delete a run's lists without rewriting the pages they free (`secure_delete=FAST`,
    for these statements only; the connection's own setting is restored after).

    Debian's libsqlite3 (the box's Python uses it) is built with SECURE_DELETE on: every deleted
    row is overwritten with zeros, and a list row fills a 4 KiB page of its own, so pruning a
    national run rewrote ~1.2 GB of freed pages through the WAL. With FAST: 10.5 → 4.7 CPU s
    (27 → 12 s of wall) for a national run's lists in the national database
    (`benchmarks/list_storage.py`, benchmarks/RESULTS.md, session 22). FAST still zeroes deleted content on the pages a delete
    writes anyway; the freed pages keep old list rows (derived data: ids, scores, levels, the
    quoted values) until the next run's lists reuse them, within the same refresh. Builds
    without SECURE_DELETE (python.org, macOS) never zeroed them."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA secure_delete").scalar()
    conn.exec_driver_sql("PRAGMA secure_delete=FAST")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA secure_delete={int(before or 0)}")


def delete_lists(conn: Connection, run_id: str) -> None:
    with _lists_deleted_fast(conn):
        for table, _ in _LIST_KEYS:
            conn.execute(delete(table).where(table.c.run_id == run_id))


def abandon_unfinished(conn: Connection) -> list[str]:
    """Runs left `running` by a killed refresh: their lists deleted, marked abandoned."""
    stale = list(conn.execute(select(t.runs.c.run_id).where(t.runs.c.status == RunStatus.running)).scalars())
    for run_id in stale:
        delete_lists(conn, run_id)
        conn.execute(
            update(t.runs).where(t.runs.c.run_id == run_id).values(status=RunStatus.abandoned, error="did not finish (killed or crashed)")
        )
    return stale


def _insert_many(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert `rows` (tuples in `columns` order) with one executemany. On a positional driver
    (SQLite) the compiled statement goes straight to it: SQLAlchemy's per-row parameter
    processing was ~20 µs a row, half of the parent's CPU storing a national run's 300k lists
    (benchmarks/RESULTS.md, session 23). Only str, bytes, int and None are bound here, which
    the driver takes as they are. Other drivers take SQLAlchemy's own executemany."""
    if not rows:
        return
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(columns))
    if compiled.positional and compiled.positiontup is not None:
        names = list(compiled.positiontup)
        if names != list(columns):
            at = [columns.index(c) for c in names]
            rows = [tuple(r[i] for i in at) for r in rows]
        conn.exec_driver_sql(compiled.string, rows)
    else:
        conn.execute(insert(table), [dict(zip(columns, r, strict=True)) for r in rows])


def _ranked_rows(run_id: str, rows: list[tuple]) -> list[tuple]:
    """(subject, others, scores, levels[, quoted]) → (run_id, …, quoted); `quoted` is optional."""
    return [(run_id, r[0], r[1], r[2], r[3], r[4] if len(r) > 4 else None) for r in rows]


def write_participant_lists(conn: Connection, run_id: str, rows: list[tuple]) -> None:
    """Packed lists (participant_id, opening_ids, scores, levels[, quoted]), see store/lists.py."""
    _insert_many(
        conn, t.participant_lists, ("run_id", "participant_id", "opening_ids", "scores", "levels", "quoted"), _ranked_rows(run_id, rows)
    )


def write_opening_lists(conn: Connection, run_id: str, rows: list[tuple]) -> None:
    """Packed lists (opening_id, participant_ids, scores, levels), see store/lists.py."""
    _insert_many(
        conn, t.opening_lists, ("run_id", "opening_id", "participant_ids", "scores", "levels", "quoted"), _ranked_rows(run_id, rows)
    )


def write_employer_view(conn: Connection, run_id: str, record: dict[str, Any]) -> None:
    """What the run's opening lists were computed with (lists.employer_view_record)."""
    conn.execute(insert(t.run_employer_views).values(run_id=run_id, **record))


def write_recommended_lists(conn: Connection, run_id: str, rows: list[tuple[str, str, str]]) -> None:
    """Recommended-now lists: (participant_id, opening ids JSON, notes JSON), see tables.py."""
    _insert_many(conn, t.recommended_lists, ("run_id", "participant_id", "opening_ids", "notes"), [(run_id, p, o, n) for p, o, n in rows])


def write_top_candidates(conn: Connection, run_id: str, rows: list[tuple[str, str]]) -> None:
    """(participant_id, JSON array of the openings whose top 3 candidates they are in)."""
    _insert_many(conn, t.run_top_candidates, ("run_id", "participant_id", "opening_ids"), [(run_id, p, o) for p, o in rows])


def set_congestion(conn: Connection, run_id: str, figures: dict[str, Any]) -> None:
    conn.execute(update(t.runs).where(t.runs.c.run_id == run_id).values(congestion=figures))


def set_counts(conn: Connection, run_id: str, *, n_participants: int, n_openings: int, n_pairs: int) -> None:
    conn.execute(
        update(t.runs).where(t.runs.c.run_id == run_id).values(n_participants=n_participants, n_openings=n_openings, n_pairs=n_pairs)
    )


def fail(conn: Connection, run_id: str, error: str) -> None:
    """A failed run: its lists deleted, marked failed with the error."""
    delete_lists(conn, run_id)
    conn.execute(update(t.runs).where(t.runs.c.run_id == run_id).values(status=RunStatus.failed, error=error[:2000]))


def publish(conn: Connection, run_id: str) -> None:
    """The only step that makes a run visible: one pointer, one transaction."""
    mine = conn.execute(
        update(t.runs).where(t.runs.c.run_id == run_id, t.runs.c.status == RunStatus.running).values(status=RunStatus.publishing)
    )
    if mine.rowcount != 1:
        raise RuntimeError(f"run {run_id} is no longer running (abandoned by another refresh?); not publishing it")
    current = conn.execute(select(t.serving.c.run_id).where(t.serving.c.id == 1)).scalar()
    now = _now()
    if current is None:
        conn.execute(insert(t.serving).values(id=1, run_id=run_id, previous_run_id=None, published_at=now))
    else:
        conn.execute(update(t.serving).where(t.serving.c.id == 1).values(run_id=run_id, previous_run_id=current, published_at=now))
    conn.execute(update(t.runs).where(t.runs.c.run_id == run_id).values(status=RunStatus.published, finished_at=now))


def prunable(conn: Connection, keep: int, *, ahead: bool = False) -> list[str]:
    """Published runs beyond the newest `keep` (never fewer than 2), never the served or the
    previous one. `ahead`: asked by a refresh before it publishes, counting the run it is
    about to publish — the runs `prune` would take once it has (the served and previous runs
    excepted, as now)."""
    published = list(
        conn.execute(select(t.runs.c.run_id).where(t.runs.c.status == RunStatus.published).order_by(t.runs.c.started_at.desc())).scalars()
    )
    pinned = set(conn.execute(select(t.serving.c.run_id, t.serving.c.previous_run_id)).one_or_none() or ())
    return [run_id for run_id in published[max(keep, 2) - int(ahead) :] if run_id not in pinned]


def prune(conn: Connection, keep: int) -> None:
    """`prunable` runs lose their lists and are marked pruned."""
    for run_id in prunable(conn, keep):
        delete_lists(conn, run_id)
        mark_pruned(conn, run_id)


def pruned(conn: Connection) -> list[str]:
    """Runs marked pruned (their lists deleted, or being deleted)."""
    return list(conn.execute(select(t.runs.c.run_id).where(t.runs.c.status == RunStatus.pruned)).scalars())


def mark_pruned(conn: Connection, run_id: str) -> None:
    conn.execute(update(t.runs).where(t.runs.c.run_id == run_id).values(status=RunStatus.pruned))


#: Rows per transaction when a refresh deletes old runs' lists (`prune_ahead`).
PRUNE_BATCH = 5_000


def prune_pending(conn: Connection, keep: int) -> bool:
    """Has `prune_ahead` anything to do: a run to prune ahead, or rows left of a pruned run?"""
    if prunable(conn, keep, ahead=True):
        return True
    gone = select(t.runs.c.run_id).where(t.runs.c.status == RunStatus.pruned)
    return any(conn.execute(select(table.c.run_id).where(table.c.run_id.in_(gone)).limit(1)).first() for table, _ in _LIST_KEYS)


def prune_ahead(db: Engine, keep: int, batch: int = PRUNE_BATCH) -> None:
    """The old runs a refresh's publish will make prunable (`prunable(ahead=True)`), marked
    pruned at once and their lists deleted while the refresh computes, `batch` rows per
    transaction: deleting a national run's lists in one held the write lock for over 30 s on a
    busy box, and the run's own writes gave up waiting. Runs marked pruned earlier that still
    have rows (a refresh killed while pruning) are finished too. Run by the refresh's pruning
    process (store/pruning.py)."""
    with db.begin() as conn:
        ahead = prunable(conn, keep, ahead=True)
        for run_id in ahead:
            mark_pruned(conn, run_id)
        ahead += pruned(conn)  # rows left over by a refresh killed while pruning: none, mostly
    for run_id in dict.fromkeys(ahead):
        while True:
            with db.begin() as conn:
                if not delete_some_lists(conn, run_id, batch):
                    break


#: The tables of a run's lists, with the key after run_id (`delete_some_lists`).
_LIST_KEYS = (
    (t.participant_lists, "participant_id"),
    (t.opening_lists, "opening_id"),
    (t.recommended_lists, "participant_id"),
    (t.run_top_candidates, "participant_id"),
    (t.run_employer_views, "run_id"),
)


def delete_some_lists(conn: Connection, run_id: str, n: int) -> int:
    """Up to about `n` rows of a run's lists deleted (by primary key range, in key order);
    the number deleted, 0 once none are left. A refresh deletes a pruned run's lists in
    many short transactions, so that its own writes are never kept waiting long."""
    with _lists_deleted_fast(conn):
        for table, key in _LIST_KEYS:
            col = table.c[key]
            last = conn.execute(select(col).where(table.c.run_id == run_id).order_by(col).offset(n - 1).limit(1)).scalar()
            where = [table.c.run_id == run_id] + ([col <= last] if last is not None else [])
            deleted = conn.execute(delete(table).where(*where)).rowcount
            if deleted:
                return int(deleted)
    return 0


# ---------------------------------------------------------------------------- reads


def model_version(conn: Connection, run_id: str) -> str:
    """The model version a run scored with."""
    return conn.execute(select(t.runs.c.model_version).where(t.runs.c.run_id == run_id)).scalar_one()


def top_k(conn: Connection, run_id: str) -> int:
    """The length a run cut its lists at."""
    return int(conn.execute(select(t.runs.c.top_k).where(t.runs.c.run_id == run_id)).scalar_one())


class Facts(NamedTuple):
    """What serving needs of a published run; none of it changes once the run is written."""

    model_version: str
    top_k: int
    as_of: dt.date
    data_version: int | None


def facts(conn: Connection, run_id: str) -> Facts:
    r = t.runs
    row = conn.execute(select(r.c.model_version, r.c.top_k, r.c.as_of, r.c.data_version).where(r.c.run_id == run_id)).one()
    return Facts(row.model_version, int(row.top_k), row.as_of, row.data_version)


def page(conn: Connection, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Runs, newest first, and their total."""
    r = t.runs
    total = conn.execute(select(func.count()).select_from(r)).scalar_one()
    rows = conn.execute(select(r).order_by(r.c.started_at.desc(), r.c.run_id.desc()).limit(limit).offset(offset))
    return [dict(x._mapping) for x in rows], int(total)
