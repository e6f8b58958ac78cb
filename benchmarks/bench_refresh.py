"""Scale benchmark for the nightly refresh: generate → load → refresh, printing figures.

    .venv/bin/python benchmarks/bench_refresh.py --participants 5000 --openings 2000 [--backend dask] [--jobs 2]

Uses the shipped model (models/LATEST) and a throw-away SQLite file; prints wall time per
stage, listed pairs per second, peak resident memory of this process and the database size.
"""
from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching.batch import refresh  # noqa: E402
from matching.config import Settings  # noqa: E402
from matching.generate import generate_world  # noqa: E402
from matching.store.db import make_engine  # noqa: E402
from matching.store.load import load_directory  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--participants", type=int, default=5000)
    ap.add_argument("--openings", type=int, default=2000)
    ap.add_argument("--employers", type=int, default=None, help="default: openings / 6")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--backend", choices=["local", "dask"], default="local")
    ap.add_argument("--jobs", type=int, default=1, help="local worker processes")
    ap.add_argument("--top-k", type=int, default=50)
    ap.add_argument("--keep", type=Path, default=None, help="keep the database at this path")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-refresh-") as tmp:
        tmp = Path(tmp)
        db_path = args.keep or tmp / "bench.db"
        t0 = time.perf_counter()
        counts = generate_world(tmp / "data", seed=args.seed, n_participants=args.participants,
                                n_employers=args.employers or max(60, args.openings // 6), n_openings=args.openings)
        t_gen = time.perf_counter() - t0

        settings = Settings(database_url=f"sqlite:///{db_path}", today=dt.date(2026, 11, 16),
                            top_k=args.top_k, model_dir=ROOT / "models", secret_key="x" * 48)
        engine = make_engine(settings.database_url)
        t0 = time.perf_counter()
        load_directory(engine, tmp / "data")
        t_load = time.perf_counter() - t0

        t0 = time.perf_counter()
        summary = refresh(settings, backend=args.backend, n_jobs=args.jobs, db=engine)
        t_refresh = time.perf_counter() - t0

        print(f"world: {counts}")
        print(f"generate  {t_gen:8.2f} s")
        print(f"load      {t_load:8.2f} s  ({sum(counts.values()) / t_load:,.0f} rows/s, validated + normalised)")
        print(f"refresh   {t_refresh:8.2f} s  backend={summary.backend} jobs={args.jobs}  "
              f"{summary.n_participants:,} participants, {summary.n_openings:,} openings listed, "
              f"{summary.n_pairs:,} participant-side rows ({summary.n_participants / t_refresh:,.0f} participants/s)")
        print(f"peak RSS  {peak_rss_mb():8.0f} MB (this process; workers not included)")
        print(f"db size   {db_path.stat().st_size / 1e6:8.1f} MB")


if __name__ == "__main__":
    main()
