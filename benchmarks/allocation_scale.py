"""Scarce places (issue 14): CPU time of the priced recommended-now step at national size, on
synthetic personal lists (no world, no database), to see what it adds to a 300k × 50k refresh.

    .venv/bin/python benchmarks/allocation_scale.py --participants 300000 --openings 50000

Each participant lists `--k` openings drawn with Zipf popularity (a few openings top many
lists, as in the generated worlds), scores sorted descending; 0–2 free places per opening.
Prints CPU and wall seconds of `allocation.price_allocate` with the default settings, and how
many openings end up priced.
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
    c0, t0 = time.process_time(), time.perf_counter()
    _, _, price = allocation.price_allocate(
        group,
        other,
        score,
        pos,
        free,
        factor=s.alloc_start_factor,
        per_list=s.recommend_now,
        depth=s.alloc_depth,
        strength=s.alloc_strength,
        scale=0.3,
        head=s.alloc_head,
    )
    print(
        f"{n_p} participants × {k} pairs, {n_o} openings: price_allocate {time.process_time() - c0:.1f} s CPU, "
        f"{time.perf_counter() - t0:.1f} s wall; {(price > 0).sum()} openings priced"
    )


if __name__ == "__main__":
    main()
