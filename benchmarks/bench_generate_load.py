"""Scale benchmark for national data: `matching generate` then `matching load`, printing figures.

    .venv/bin/python benchmarks/bench_generate_load.py --participants 300000 --openings 50000

Each stage runs in its own child process (the real CLI), so the peak resident memory printed
is that stage's own; the database is a throw-away SQLite file unless --keep is given. A second
load of the same directory (every row an unchanged upsert) is timed too with --reload.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + sys) and peak RSS (MB) of one CLI child process.

    CPU time is the figure that survives a shared machine; wall time is what a user waits."""
    code = (
        "import resource, sys\nfrom matching.cli import app\nsys.argv = ['matching'] + sys.argv[1:]\n"
        "try:\n    app()\nexcept SystemExit as e:\n    code = e.code\nelse:\n    code = 0\n"
        "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode:
        sys.exit(f"matching {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    peak = next(int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("PEAK_RSS_KB"))
    return wall, cpu, peak / 1024


def rows_in(directory: Path) -> dict[str, int]:
    out = {}
    for path in sorted(directory.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            out[path.stem] = sum(1 for _ in csv.reader(fh)) - 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--participants", type=int, default=50_000)
    ap.add_argument("--openings", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=2013)
    ap.add_argument("--scope", default="national")
    ap.add_argument("--no-outcomes", action="store_true")
    ap.add_argument("--reload", action="store_true", help="also time loading the same data again")
    ap.add_argument("--keep", type=Path, default=None, help="keep data and database in this directory")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-natgen-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        data, db = work / "data", work / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        env = {**os.environ, "MATCHING_DATABASE_URL": f"sqlite:///{db}"}
        gen = [
            "generate",
            "--out",
            str(data),
            "--scope",
            args.scope,
            "--seed",
            str(args.seed),
            "--participants",
            str(args.participants),
            "--openings",
            str(args.openings),
        ]
        if args.no_outcomes:
            gen.append("--no-outcomes")
        t_gen, cpu_gen, rss_gen = run(gen, env)
        counts = rows_in(data)
        total = sum(counts.values())
        t_load, cpu_load, rss_load = run(["load", str(data)], env)
        print(f"sizes     {', '.join(f'{k} {v:,}' for k, v in counts.items())} ({total:,} rows)")
        print(
            f"generate  {t_gen:8.1f} s wall {cpu_gen:7.1f} s CPU   peak RSS {rss_gen:7.0f} MB   "
            f"{sum(p.stat().st_size for p in data.glob('*.csv')) / 1e6:.0f} MB of CSV"
        )
        print(
            f"load      {t_load:8.1f} s wall {cpu_load:7.1f} s CPU   peak RSS {rss_load:7.0f} MB   "
            f"{total / t_load:,.0f} rows/s wall, {total / cpu_load:,.0f} per CPU second   "
            f"database {db.stat().st_size / 1e6:.0f} MB"
        )
        if args.reload:
            t_re, cpu_re, rss_re = run(["load", str(data)], env)
            print(
                f"reload    {t_re:8.1f} s wall {cpu_re:7.1f} s CPU   peak RSS {rss_re:7.0f} MB   "
                f"{total / t_re:,.0f} rows/s wall (no changes)"
            )
        print(
            f"cpu       {os.cpu_count()} cores; load average now {os.getloadavg()[0]:.1f} "
            f"(a load above the core count means the machine was shared)"
        )


if __name__ == "__main__":
    main()
