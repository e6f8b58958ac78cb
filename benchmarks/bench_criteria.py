"""Time each criterion's levels (its fast path, run on every candidate pair) and its quoted
values (run for shown pairs only) over many pairs of the fixture world (prints seconds and
pairs per second), to keep feature families cheap next to each other.

    python benchmarks/bench_criteria.py [--repeat 10] [--data data/fixtures]

Every (participant, opening) pair of the fixtures, repeated ``--repeat`` times, is evaluated by
every criterion's `level` and `values` once; snapshot encodings (skill matrices, the proximity table) are built before
timing, as the nightly batch builds them once per run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from matching.criteria import ALL
from matching.pairs import Pairs
from matching.store.db import make_engine
from matching.store.load import load_directory
from matching.store.snapshot import load_world
from matching.taxonomy import proximity

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "fixtures")
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        load_directory(engine, args.data)
        with engine.connect() as conn:
            world = load_world(conn)
    n_p, n_o = len(world.participants), len(world.openings)
    p, o = np.meshgrid(np.arange(n_p), np.arange(n_o), indexing="ij")
    pairs = Pairs.build(world, np.tile(p.ravel(), args.repeat), np.tile(o.ravel(), args.repeat), 740_000)
    t0 = time.perf_counter()
    proximity.table()
    _ = world.participant_skills, world.likely_skills, world.required_skills, world.optional_skills
    print(f"{len(pairs):,} pairs; encodings and proximity table built in {time.perf_counter() - t0:.2f} s")
    total = {"level": 0.0, "values": 0.0}
    cpu = {"level": 0.0, "values": 0.0}
    for crit in ALL:
        line = f"  {crit.name:14s}"
        for part in total:
            t, c = time.perf_counter(), time.process_time()
            getattr(crit, part)(pairs)
            dt, dc = time.perf_counter() - t, time.process_time() - c
            total[part] += dt
            cpu[part] += dc
            line += f"  {part} {dt:6.3f} s {len(pairs) / dt / 1e6:6.2f} M pairs/s (CPU {dc / len(pairs) * 1e9:6.1f} ns/pair)"
        print(line)
    print(
        f"  {'all':14s}"
        + "".join(
            f"  {part} {dt:6.3f} s {len(pairs) / dt / 1e6:6.2f} M pairs/s (CPU {cpu[part] / len(pairs) * 1e9:6.1f} ns/pair)"
            for part, dt in total.items()
        )
    )


if __name__ == "__main__":
    main()
