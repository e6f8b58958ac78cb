"""The national refresh's tail (issue 10): the *recommended now* step alone, on a real run's
personal lists, timed and checked against what that run stored.

    .venv/bin/python benchmarks/recommend_now.py --db /tmp/nat/copy.db [--jobs 2] [--repeat 1]

Reads the served run of a refreshed database (the snapshot, the day's taken places, start rate,
chains in flight and employers' contacts, as `matching.batch.refresh` reads them before its
shards, and the run's stored personal lists, which are exactly the pairs the shards hand the
allocation: participant row, opening row, shown score as float32, rank), then runs
`batch.recommend_now` on a forked worker pool of `--jobs` processes (as the refresh's tail runs
it; `--jobs 1`: inline). Prints the step's wall time, this process's CPU, the workers' CPU, and
whether the rows and congestion figures are byte for byte the ones the run stored (the check
that a faster tail computes the same lists), with a digest of both to compare two branches.
Nothing is written. `MATCHING_TODAY` defaults to benchmarks/refresh.py's day.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from matching import batch, topk  # noqa: E402
from matching.config import Settings  # noqa: E402
from matching.store import lists, outcomes  # noqa: E402
from matching.store import tables as t  # noqa: E402
from matching.store.db import make_engine  # noqa: E402
from matching.store.snapshot import load_world  # noqa: E402

TODAY = dt.date(2026, 11, 16)  # benchmarks/refresh.py's day


def _children_cpu() -> float:
    import psutil

    total = 0.0
    for c in psutil.Process().children(recursive=True):
        try:
            ct = c.cpu_times()
            total += ct.user + ct.system
        except psutil.NoSuchProcess:
            pass
    return total


def _read(engine, as_of: dt.date, no_check: bool) -> tuple:
    """The served run's inputs to the step and what it stored."""
    with engine.connect() as conn:
        served = lists.serving(conn)
        if served is None:
            sys.exit("no served run in this database")
        run_id = served.run_id
        world = load_world(conn)
        taken = outcomes.taken_places(conn, as_of)
        start_rate = outcomes.start_rate(conn, as_of)
        in_flight = outcomes.in_flight(conn, as_of)
        row_of = {o: i for i, o in enumerate(world.openings.ids.tolist())}
        p_row = {p: i for i, p in enumerate(world.participants.ids.tolist())}
        pl = t.participant_lists
        g_parts, o_parts, s_parts = [], [], []
        for pid, ids, scores in conn.execute(select(pl.c.participant_id, pl.c.opening_ids, pl.c.scores).where(pl.c.run_id == run_id)):
            o = orjson.loads(ids)
            if not o:
                continue
            g_parts.append(np.full(len(o), p_row[pid], dtype=np.int32))
            o_parts.append(np.array([row_of[x] for x in o], dtype=np.int32))
            s_parts.append(np.frombuffer(scores, dtype="<f8"))
        stored_rows: dict[str, tuple[str, str]] = {}
        figures_stored = None
        if not no_check:
            r = t.recommended_lists
            stored_rows = {
                p: (a, b) for p, a, b in conn.execute(select(r.c.participant_id, r.c.opening_ids, r.c.notes).where(r.c.run_id == run_id))
            }
            figures_stored = conn.execute(select(t.runs.c.congestion).where(t.runs.c.run_id == run_id)).scalar_one()
    group = np.concatenate(g_parts)
    other = np.concatenate(o_parts)
    score = topk.shown(np.concatenate(s_parts)).astype(np.float32)
    pos = batch._positions(group).astype(np.int16)
    del g_parts, o_parts, s_parts
    return run_id, world, taken, start_rate, in_flight, group, other, score, pos, stored_rows, figures_stored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True, help="a refreshed SQLite database (only read)")
    ap.add_argument("--jobs", type=int, default=2, help="forked worker processes (1: inline)")
    ap.add_argument("--repeat", type=int, default=1, help="run the step this many times (the figures of each)")
    ap.add_argument("--no-check", action="store_true", help="skip the comparison with the stored rows")
    ap.add_argument("--cache", type=Path, default=None, help="keep the run's pairs and stored rows in this pickle (read once)")
    ap.add_argument("--profile", type=Path, default=None, help="write cProfile stats of this process's step here")
    args = ap.parse_args()
    today = dt.date.fromisoformat(os.environ.get("MATCHING_TODAY", TODAY.isoformat()))
    url = f"sqlite:///{args.db}"
    settings = Settings(database_url=url, today=today, secret_key="x" * 48)
    as_of = settings.as_of()
    engine = make_engine(url)
    t0 = time.perf_counter()
    if args.cache is not None and args.cache.exists():
        with engine.connect() as conn:
            world = load_world(conn)
        with args.cache.open("rb") as f:
            run_id, taken, start_rate, in_flight, group, other, score, pos, stored_rows, figures_stored = pickle.load(f)
    else:
        run_id, world, taken, start_rate, in_flight, group, other, score, pos, stored_rows, figures_stored = _read(
            engine, as_of, args.no_check
        )
        if args.cache is not None:
            with args.cache.open("wb") as f:
                pickle.dump((run_id, taken, start_rate, in_flight, group, other, score, pos, stored_rows, figures_stored), f, protocol=5)
    world = world.slim()
    contacts_left = batch.employer_contacts_left(world, as_of)
    # as the shards hand them over: one part per scoring shard (participants of one office, ≤ MAX_SHARD)
    cut = batch.shards(world)
    shard_of = np.zeros(len(world.participants), dtype=np.int64)
    for i, rows in enumerate(cut):
        shard_of[rows] = i
    order = np.lexsort((pos, group, shard_of[group]))
    group, other, score, pos = group[order], other[order], score[order], pos[order]
    bounds = np.searchsorted(shard_of[group], np.arange(len(cut) + 1))
    parts = [(group[a:b], other[a:b], score[a:b], pos[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    print(
        f"run {run_id}: {len(world.participants):,} participants, {len(world.openings):,} openings, {len(group):,} personal pairs "
        f"in {len(parts)} shards; read in {time.perf_counter() - t0:.1f} s"
    )
    del group, other, score, pos
    pool = batch._LocalPool(world, args.jobs) if args.jobs > 1 else None
    try:
        if pool is not None:  # start the workers before timing (the refresh's are running by then)
            list(pool.executor.map(abs, range(args.jobs * 4)))
        for n in range(args.repeat):
            prof = cProfile.Profile() if args.profile else None
            c_kids, c0, t1 = _children_cpu(), time.process_time(), time.perf_counter()
            if prof is not None:
                prof.enable()
            rows, figures = batch.recommend_now(
                world,
                parts,
                taken,
                settings,
                as_of,
                n_jobs=args.jobs,
                contacts_left=contacts_left,
                pool=pool,
                start_rate=start_rate,
                in_flight=in_flight,
            )
            wall, cpu, kids = time.perf_counter() - t1, time.process_time() - c0, _children_cpu() - c_kids
            if prof is not None:
                prof.disable()
                prof.dump_stats(args.profile)
            got = {p: (a, b) for p, a, b in rows}
            fig_json = orjson.dumps(figures, option=orjson.OPT_SORT_KEYS)
            digest = hashlib.sha256(orjson.dumps(sorted(got.items())) + fig_json).hexdigest()[:16]
            print(
                f"recommend_now #{n + 1}: {wall:.2f} s wall, {cpu:.2f} CPU s in this process, {kids:.2f} CPU s in the workers "
                f"({args.jobs} jobs); {len(rows):,} rows; digest {digest}"
            )
            if not args.no_check:
                same_rows = got == stored_rows
                same_fig = orjson.loads(fig_json) == figures_stored
                print(f"  equal to the stored run: rows {same_rows}, congestion figures {same_fig}")
                if not same_rows:
                    diff = [p for p in stored_rows.keys() | got.keys() if stored_rows.get(p) != got.get(p)]
                    print(f"  {len(diff)} rows differ, e.g. {sorted(diff)[:3]}")
            del rows, got
    finally:
        if pool is not None:
            pool.__exit__(None, None, None)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f}")


if __name__ == "__main__":
    main()
