"""CPU of the national refresh's shard scoring (`batch.score_shard`), in one process, and a
digest of what the shards return.

    .venv/bin/python benchmarks/shard_cpu.py [--db /tmp/nat/s22.db] [--every 10] [--offset 5]
        [--today 2026-11-16] [--profile]

Reads the snapshot of a loaded national database (300k participants x 50k openings: ~15 s,
~3 GB RSS) through a read-only SQLite connection (never writes to it, not even a migration),
prepares it as the refresh does (`World.slim`, the openings' tree), takes every EVERY-th
shard from OFFSET (`batch.shards`; the defaults give 36 of 363 shards: 36,693 participants,
28.9M scored pairs) and runs `batch.score_shard` on each, as a worker would, with the served
model of this checkout's `models/`. Prints:

- CPU seconds (`time.process_time`) of the shards and ns per scored pair;
- the CPU of the three parts (blocking in both views: `candidates.Index.for_participants`;
  levels: `MatchEngine._levels_both_views`; quoting: `batch._quoted_lists`) and of
  `MatchEngine.both_directions` (blocking + levels + top-k);
- a SHA-256 digest of everything the shards return (the stored lists with their quoted blobs,
  the opening side's arrays, the allocation's arrays): equal digests on two checkouts mean
  byte-identical output, so a speed change that keeps the digest is exact.

`--profile`: a cProfile listing (top 40 by own time) of the same run (slower). CPU figures, not
wall: the box is shared; still, they vary by ~10 % with its load (measure two checkouts back to
back, twice). Session 23's figures are in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import datetime as dt
import hashlib
import pickle
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matching import batch, candidates  # noqa: E402
from matching import engine as engine_module  # noqa: E402
from matching.config import Settings  # noqa: E402
from matching.scoring import ScoringModel  # noqa: E402
from matching.store.db import reading  # noqa: E402
from matching.store.snapshot import load_world  # noqa: E402

#: The refresh's defaults (`matching refresh` with no settings changed).
TOP_K = Settings.model_fields["top_k"].default
QUOTED_ENTRIES = Settings.model_fields["quoted_entries"].default


def _timed(owner: Any, name: str, label: str, timers: collections.Counter) -> None:
    """Count the CPU spent in owner.name under label (calls nest: each part counts its own)."""
    inner: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            timers[label] += time.process_time() - started

    setattr(owner, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=Path("/tmp/nat/s22.db"), help="a loaded national SQLite database (read only)")
    ap.add_argument("--every", type=int, default=10, help="take every EVERY-th shard")
    ap.add_argument("--offset", type=int, default=5, help="starting from this shard")
    ap.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 16), help="the day ranked for (the data's)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile listing of the shards")
    args = ap.parse_args()
    if not args.db.is_file():
        ap.error(f"--db {args.db}: no such file")
    if args.every < 1 or args.offset < 0:
        ap.error("--every must be >= 1 and --offset >= 0")

    started = time.perf_counter()
    db = create_engine(f"sqlite:///file:{args.db.resolve()}?mode=ro&uri=true")
    with reading(db) as conn:
        world = load_world(conn)
    world = world.slim()
    candidates.index(world).for_participants([], args.today)  # the openings' tree, as the refresh's parent builds it
    shards = batch.shards(world, batch.MAX_SHARD)
    sample = shards[args.offset :: args.every]
    if not sample:
        ap.error(f"no shard at offset {args.offset} (there are {len(shards)})")
    print(
        f"snapshot {time.perf_counter() - started:.1f} s; {len(shards)} shards, sample {len(sample)} "
        f"(every {args.every} from {args.offset}), {sum(len(s) for s in sample):,} participants",
        flush=True,
    )
    model = ScoringModel.load(ROOT / "models").to_dict()

    timers: collections.Counter = collections.Counter()
    _timed(candidates.Index, "for_participants", "blocking (for_participants, both views)", timers)
    _timed(engine_module.MatchEngine, "_levels_both_views", "levels (_levels_both_views)", timers)
    _timed(batch, "_quoted_lists", "quoting (_quoted_lists)", timers)
    _timed(engine_module.MatchEngine, "both_directions", "both_directions (blocking+levels+top-k)", timers)

    digest = hashlib.sha256()
    profile = cProfile.Profile() if args.profile else None
    if profile is not None:
        profile.enable()
    cpu = time.process_time()
    scored = 0
    for shard in sample:
        out = batch.score_shard(world, model, args.today, shard, TOP_K, QUOTED_ENTRIES)
        scored += out["n_scored"]
        digest.update(pickle.dumps((out["p_lists"], out["n_listed"], out["n_scored"], out["n_participants"]), protocol=5))
        o2p = out["o2p"]
        for arr in (o2p.group, o2p.other, o2p.score, o2p.levels, *out["alloc"]):
            digest.update(np.ascontiguousarray(arr).tobytes())
    cpu = time.process_time() - cpu
    if profile is not None:
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(40)

    print(f"score_shard CPU {cpu:.2f} s, {scored:,} scored pairs, {cpu / max(scored, 1) * 1e9:.0f} ns/pair")
    for label, spent in sorted(timers.items(), key=lambda kv: -kv[1]):
        print(f"  {label:44s} {spent:7.2f} s {spent / cpu * 100:5.1f} %")
    print("digest", digest.hexdigest())


if __name__ == "__main__":
    main()
