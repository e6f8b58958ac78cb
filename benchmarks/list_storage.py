"""What storing and pruning one run's participant lists costs in SQLite, by storage variant.

    .venv/bin/python benchmarks/list_storage.py --db /tmp/nat/storeA.db [--rows 300000] [--variant NAME]...

Reads one run's `participant_lists` rows (the served run by default) from a national database
(read-only), then, per variant, in a fresh SQLite file beside `--work`: writes them as an "old"
run, writes them again as the "new" run in transactions of `--batch` rows (as the refresh stores
a shard's lists), deletes the old run the way the refresh prunes (`runs.delete_some_lists`: key
ranges of 5,000 rows per transaction), writes the old run again and deletes it with one DELETE.
Printed per step: this process's CPU seconds and wall seconds (the box is shared: read the CPU).
Every connection has the pragmas `matching.store.db` sets (WAL, synchronous=NORMAL); raw
sqlite3 and executemany, so the figures are the storage engine's, without SQLAlchemy's per-row
work (the same for every variant).

Variants: `today` (rowid table + composite primary key, i.e. an autoindex, page 4096, the
build's secure_delete — Debian's libsqlite3 is built with SECURE_DELETE on); `fast_delete`
(secure_delete=FAST: deleted content is zeroed where a page is written anyway, freed pages are
not rewritten); `no_autocheckpoint` (FAST, and the WAL copied into the database once after the
write instead of every 1,000 pages); `cache64` (64 MiB page cache); `without_rowid`; `page8k`; `slim` (the quoted
blob without the listed openings' kind/title/employer/orgnr, re-packed); `slim_fast` (both).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from pathlib import Path

import orjson
import zstandard

VARIANTS = {
    "today": {},
    "fast_delete": {"secure_delete": "FAST"},
    "cache64": {"cache_kib": 65536},
    "without_rowid": {"without_rowid": True},
    "page8k": {"page_size": 8192},
    "slim": {"slim": True},
    "slim_fast": {"slim": True, "secure_delete": "FAST"},
    "no_autocheckpoint": {"secure_delete": "FAST", "autocheckpoint": 0},
}


def _slim(blob: bytes | None, d: zstandard.ZstdDecompressor, c: zstandard.ZstdCompressor) -> bytes | None:
    if blob is None:
        return None
    q = orjson.loads(d.decompress(blob))
    q["openings"] = None
    return c.compress(orjson.dumps(q))


def _connect(path: Path, v: dict) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    if "page_size" in v:
        conn.execute(f"PRAGMA page_size={v['page_size']}")
    for p in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {p}")
    if "secure_delete" in v:
        conn.execute(f"PRAGMA secure_delete={v['secure_delete']}")
    if "autocheckpoint" in v:
        conn.execute(f"PRAGMA wal_autocheckpoint={v['autocheckpoint']}")
    if "cache_kib" in v:
        conn.execute(f"PRAGMA cache_size=-{v['cache_kib']}")
    tail = " WITHOUT ROWID" if v.get("without_rowid") else ""
    conn.execute(
        "CREATE TABLE participant_lists (run_id VARCHAR(40) NOT NULL, participant_id VARCHAR(40) NOT NULL, "
        "opening_ids TEXT NOT NULL, scores BLOB NOT NULL, levels BLOB NOT NULL, quoted BLOB, "
        f"PRIMARY KEY (run_id, participant_id)){tail}"
    )
    return conn


def _timed(label: str, fn, *args) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn(*args)
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    print(f"  {label:<34} {cpu:7.2f} CPU s {wall:7.2f} s wall", flush=True)
    return cpu, wall


def _write(conn: sqlite3.Connection, run_id: str, rows: list[tuple], batch: int) -> None:
    for i in range(0, len(rows), batch):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO participant_lists VALUES (?, ?, ?, ?, ?, ?)", [(run_id, *r) for r in rows[i : i + batch]])
        conn.execute("COMMIT")


def _prune_in_ranges(conn: sqlite3.Connection, run_id: str, n: int = 5000) -> None:
    while True:
        conn.execute("BEGIN IMMEDIATE")
        last = conn.execute(
            "SELECT participant_id FROM participant_lists WHERE run_id = ? ORDER BY participant_id LIMIT 1 OFFSET ?", (run_id, n - 1)
        ).fetchone()
        if last is None:
            deleted = conn.execute("DELETE FROM participant_lists WHERE run_id = ?", (run_id,)).rowcount
        else:
            deleted = conn.execute("DELETE FROM participant_lists WHERE run_id = ? AND participant_id <= ?", (run_id, last[0])).rowcount
        conn.execute("COMMIT")
        if not deleted:
            return


def _prune_once(conn: sqlite3.Connection, run_id: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM participant_lists WHERE run_id = ?", (run_id,))
    conn.execute("COMMIT")


def prune_run(path: str, run_id: str, cache_mib: int | None = None) -> None:
    """Mark `run_id` pruned and delete its lists in `--db` the way a refresh's pruning does
    (`runs.delete_some_lists`, `runs.PRUNE_BATCH` rows per transaction), alone."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from matching.store import runs
    from matching.store.db import make_engine

    db = make_engine(f"sqlite:///{path}")
    if cache_mib:
        from sqlalchemy import event

        db.dispose()
        event.listen(db, "connect", lambda c, _: c.execute(f"PRAGMA cache_size=-{cache_mib * 1024}"))
    with db.begin() as conn:
        runs.mark_pruned(conn, run_id)
    batches = 0

    def loop() -> None:
        nonlocal batches
        while True:
            with db.begin() as conn:
                batches += 1
                if not runs.delete_some_lists(conn, run_id, runs.PRUNE_BATCH):
                    return

    _timed(f"prune {run_id}", loop)
    print(f"  {batches} transactions; load average {os.getloadavg()}")


def write_through_matching(path: Path, rows: list[tuple], batch: int) -> None:
    """The refresh's own write path (`runs.write_participant_lists`, SQLAlchemy) into a fresh
    database made by `matching` (migrations, triggers), against the same rows through
    `exec_driver_sql` (the DB-API's executemany, no per-row SQLAlchemy work)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import datetime as dt

    from matching.store import runs
    from matching.store.db import make_engine

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = make_engine(f"sqlite:///{path}")
    with db.begin() as conn:
        for run_id in ("a", "b"):
            runs.start(conn, run_id, as_of=dt.date(2026, 11, 16), model_version="x", backend="local", top_k=50)

    def orm(run_id: str) -> None:
        for i in range(0, len(rows), batch):
            with db.begin() as conn:
                runs.write_participant_lists(conn, run_id, rows[i : i + batch])

    def raw(run_id: str) -> None:
        sql = "INSERT INTO participant_lists (run_id, participant_id, opening_ids, scores, levels, quoted) VALUES (?, ?, ?, ?, ?, ?)"
        for i in range(0, len(rows), batch):
            with db.begin() as conn:
                conn.exec_driver_sql(sql, [(run_id, *r) for r in rows[i : i + batch]])

    print("matching's database:", flush=True)
    _timed("write a run: runs.write_participant_lists", lambda: orm("a"))
    _timed("write a run: exec_driver_sql", lambda: raw("b"))
    db.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="a national database (opened read-only)")
    ap.add_argument("--run", help="the run whose lists to use (default: the served run)")
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--batch", type=int, default=2000, help="rows per write transaction (a shard's lists)")
    ap.add_argument("--work", default=None, help="directory for the variants' files (default: beside --db)")
    ap.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="default: all")
    ap.add_argument("--write-paths", action="store_true", help="instead: the refresh's write path against exec_driver_sql")
    ap.add_argument("--cache-mib", type=int, default=None, help="--prune-run: the connection's page cache")
    ap.add_argument("--prune-run", help="instead: delete this run's lists from --db itself (a COPY!) as a refresh prunes them")
    args = ap.parse_args()
    if args.prune_run:
        return prune_run(args.db, args.prune_run, args.cache_mib)
    src = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    run = args.run or src.execute("SELECT run_id FROM serving WHERE id = 1").fetchone()[0]
    rows = src.execute(
        "SELECT participant_id, opening_ids, scores, levels, quoted FROM participant_lists "
        "WHERE run_id = ? ORDER BY participant_id LIMIT ?",
        (run, args.rows),
    ).fetchall()
    src.close()
    d, c = zstandard.ZstdDecompressor(), zstandard.ZstdCompressor(level=1)
    slim = None
    work = Path(args.work or Path(args.db).parent)
    if args.write_paths:
        return write_through_matching(Path(args.work or Path(args.db).parent) / "list_storage_paths.db", rows, args.batch)
    print(f"run {run}: {len(rows):,} lists, {sum(len(r[1]) + len(r[2]) + len(r[3]) + len(r[4] or b'') for r in rows) / 1e6:.0f} MB")
    for name in args.variant or list(VARIANTS):
        v = VARIANTS[name]
        data = rows
        if v.get("slim"):
            if slim is None:
                slim = [(p, o, s, lv, _slim(q, d, c)) for p, o, s, lv, q in rows]
                print(f"slim quoted: {sum(len(r[1]) + len(r[2]) + len(r[3]) + len(r[4] or b'') for r in slim) / 1e6:.0f} MB")
            data = slim
        path = work / f"list_storage_{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        print(f"{name}: {v}", flush=True)
        conn = _connect(path, v)
        _write(conn, "old", data, args.batch)
        _timed("write a run (new)", _write, conn, "new", data, args.batch)
        if "autocheckpoint" in v:
            _timed("  then one checkpoint", conn.execute, "PRAGMA wal_checkpoint(TRUNCATE)")
        _timed("prune old: 5,000-row ranges", _prune_in_ranges, conn, "old")
        _write(conn, "old", data, args.batch)
        _timed("prune old: one DELETE", _prune_once, conn, "old")
        pages = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
        print(f"  file {pages / 1e6:.0f} MB for one run", flush=True)
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    print(f"pid {os.getpid()}, load average {os.getloadavg()}", file=sys.stderr)


if __name__ == "__main__":
    main()
