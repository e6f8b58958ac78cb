"""Scarce places (issue 14): CPU time of the priced recommended-now step at national size, on
synthetic personal lists (no world, no database), to see what it adds to a 300k × 50k refresh.

    .venv/bin/python benchmarks/allocation_scale.py --participants 300000 --openings 50000
    .venv/bin/python benchmarks/allocation_scale.py --participants 300000 --openings 50000 --offices 100

Each participant lists `--k` openings drawn with Zipf popularity (a few openings top many
lists, as in the generated worlds), scores sorted descending; 0–2 free places per opening.
Prints CPU and wall seconds of `allocation.price_allocate` with the default settings, and how
many openings end up priced.

With `--offices N` (the batch's path) participants and openings belong to N offices, a
participant's openings are their own office's with probability `--local` (else any office's,
hard constraints such as travel keep most lists local), and the step runs as the refresh runs
it: `allocation.price_shard_tasks` (one shard per office) in this process, then every shard's
`allocation.run_price_shard`, serially here. Prints the split's CPU, the shards' total CPU,
and the largest shard's CPU — the step's critical path when the backend runs the shards in
parallel (the parent's share of the refresh is the split alone); then the second pass
(`allocation.resplit` in the parent, the changed shards again).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matching import allocation  # noqa: E402
from matching.config import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--participants", type=int, default=300_000)
    ap.add_argument("--openings", type=int, default=50_000)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--offices", type=int, default=0, help="0: one price_allocate over all pairs; N: N office shards")
    ap.add_argument("--compare", action="store_true", help="with --offices: also time one price_allocate on the same pairs")
    ap.add_argument("--local", type=float, default=0.9, help="with --offices: share of a list from the own office")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    n_p, k, n_o = args.participants, args.k, args.openings
    group = np.repeat(np.arange(n_p), k)
    pos = np.tile(np.arange(k), n_p)
    pop = rng.zipf(1.6, n_o).astype(float)
    other = rng.choice(n_o, n_p * k, p=pop / pop.sum())
    score = np.sort(rng.beta(2, 5, (n_p, k)), axis=1)[:, ::-1].ravel()
    free = rng.integers(0, 3, n_o)
    s = Settings(environment="test", secret_key="x" * 40)
    options = {
        "factor": s.alloc_start_factor,
        "per_list": s.recommend_now,
        "depth": s.alloc_depth,
        "strength": s.alloc_strength,
        "scale": 0.3,
        "head": s.alloc_head,
        "tail": s.alloc_tail,
        "full_strength": s.alloc_full_strength,
    }
    if args.offices <= 0:
        c0, t0 = time.process_time(), time.perf_counter()
        _, _, price = allocation.price_allocate(group, other, score, pos, free, **options)
        print(
            f"{n_p} participants × {k} pairs, {n_o} openings: price_allocate {time.process_time() - c0:.1f} s CPU, "
            f"{time.perf_counter() - t0:.1f} s wall; {(price > 0).sum()} openings priced"
        )
        return
    f = args.offices
    p_office = rng.integers(0, f, n_p)
    block = n_o // f  # openings [f_i × block, (f_i + 1) × block) are office f_i's
    local_pop = pop[:block] / pop[:block].sum()
    draws = 3 * k  # per participant, then the first k distinct
    g3 = np.repeat(np.arange(n_p), draws)
    own = p_office[g3] * block + rng.choice(block, n_p * draws, p=local_pop)
    other = np.where(rng.random(n_p * draws) < args.local, own, rng.choice(n_o, n_p * draws, p=pop / pop.sum()))
    first = np.unique(g3 * n_o + other, return_index=True)[1]
    first.sort()  # one list holds an opening once: each participant's first draws of it
    g3, other = g3[first], other[first]
    rank = np.arange(len(g3)) - np.searchsorted(g3, g3)
    group, other = g3[rank < k], other[rank < k]
    pos = np.arange(len(group)) - np.searchsorted(group, group)
    score = rng.beta(2, 5, len(group))
    score = score[np.lexsort((-score, group))]  # descending within each list (group is sorted)
    if args.compare:
        c0 = time.process_time()
        allocation.price_allocate(group, other, score, pos, free, **options)
        print(f"the same pairs in one price_allocate: {time.process_time() - c0:.1f} s CPU")
    c0, t0 = time.process_time(), time.perf_counter()
    tasks = allocation.price_shard_tasks(group, other, score, pos, p_office[group], free, **options)
    split_cpu, split_wall = time.process_time() - c0, time.perf_counter() - t0
    cpus, results = [], []
    for _, task in tasks:
        c1 = time.process_time()
        results.append(allocation.run_price_shard(task))
        cpus.append(time.process_time() - c1)
    priced = sum(int((r[2] > 0).sum()) for r in results)
    print(
        f"{n_p} participants, {len(group)} pairs, {n_o} openings, {len(tasks)} office shards "
        f"({args.local:.0%} of each list local): split {split_cpu:.1f} s CPU ({split_wall:.1f} s wall) in the parent; "
        f"shards {sum(cpus):.1f} s CPU in total, the largest {max(cpus):.2f} s CPU; "
        f"{priced} (shard, opening) prices > 0"
    )
    # the second pass (settings.alloc_passes = 2): re-split in the parent, changed shards again on the backend
    c0 = time.process_time()
    shares = allocation.resplit([t for _, t in tasks], results, options["factor"])
    resplit_cpu = time.process_time() - c0
    again = [i for i, sh in enumerate(shares) if sh is not None]
    cpus2 = []
    for i in again:
        task = allocation.PriceTask(**{**tasks[i][1].__dict__, "free": shares[i]})
        c1 = time.process_time()
        allocation.run_price_shard(task)
        cpus2.append(time.process_time() - c1)
    print(
        f"second pass: re-split {resplit_cpu:.2f} s CPU in the parent; {len(again)} of {len(tasks)} shards again, "
        f"{sum(cpus2):.1f} s CPU in total, the largest {max(cpus2, default=0.0):.2f} s CPU"
    )


if __name__ == "__main__":
    main()
