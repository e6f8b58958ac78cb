"""Nightly refresh benchmark: generate → load → refresh (both directions, top-K, published),
with two references measured in the same run so the figures survive a noisy machine.

    .venv/bin/python benchmarks/refresh.py --participants 20000 --openings 5000 --jobs 2 [--record]

Generation and loading go through the `matching` command line (so a better generator or bulk
loader is used as soon as it lands); the refresh runs in this process with its workers, and a
sampler adds up the proportional resident memory (PSS) of the whole process tree. Printed:

- wall time, candidate pairs scored (after blocking), pairs/s, ns per pair per core, peak PSS
  (this process + workers), database size;
- naive reference: the same model scored pair by pair in Python (one-pair Pairs through every
  criterion) on a sample of participants, extrapolated to all scored pairs; its lists are
  checked against the stored ones;
- brute-force lower bound: every participant × every opening with a minimal 3-feature linear
  model (haversine distance + occupation lookup + hours), top-K per participant, numpy on
  one core — the "physical limit" of this box per pair — on a sample, extrapolated.

`--record` appends the figures as a row to the "## Nightly refresh" table in
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import heapq
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching import candidates, topk  # noqa: E402
from matching.batch import refresh  # noqa: E402
from matching.config import Settings  # noqa: E402
from matching.engine import MatchEngine  # noqa: E402
from matching.features import evaluate  # noqa: E402
from matching.pairs import Pairs  # noqa: E402
from matching.schema import RunStatus  # noqa: E402
from matching.scoring import ScoringModel  # noqa: E402
from matching.store import lists  # noqa: E402
from matching.store.db import make_engine  # noqa: E402
from matching.store.snapshot import load_world  # noqa: E402
from matching.taxonomy.places import EARTH_RADIUS_KM  # noqa: E402

TODAY = dt.date(2026, 11, 16)
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Nightly refresh"


def _pss(p) -> int:
    """Proportional set size (Linux: /proc/PID/smaps_rollup); RSS where it is not available."""
    try:
        for line in Path(f"/proc/{p.pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return p.memory_info().rss


class TreeMonitor:
    """Samples this process and all its children: peak summed proportional resident memory
    (PSS: shared pages counted once across the tree), and CPU
    seconds per process (the last sample of each, so workers that exit still count)."""

    def __init__(self, every: float = 0.5, pid: int | None = None, pss_every: int = 10):
        import psutil

        self.proc, self.every, self.peak = psutil.Process(pid), every, 0
        self.pss_every, self._n = pss_every, 0
        self.cpu: dict[int, float] = {}
        self._start = sum(self.proc.cpu_times()[:2]) if pid is None else 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, pss: bool = True) -> int:
        import psutil

        total = 0
        try:
            tree = [self.proc, *self.proc.children(recursive=True)]
        except psutil.Error:  # the watched process has ended
            return 0
        for p in tree:
            try:
                with p.oneshot():
                    # PSS: forked workers share the snapshot's pages with the refresh, and
                    # summing their RSS would count those pages once per process. Reading it
                    # walks the page tables (~0.1 s of CPU per process at 3 GB, charged to
                    # this process, on the cores the refresh runs on): only every
                    # `pss_every`-th sample (5 s; the peak is a plateau over the shard phase).
                    # Once a second it cost ~20 CPU s of a national refresh. CPU times are
                    # cheap: every sample, so workers that exit still count.
                    if pss:
                        total += _pss(p)
                    t = p.cpu_times()
                    self.cpu[p.pid] = t.user + t.system
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self._n += 1
            self.peak = max(self.peak, self._sample(pss=self._n % self.pss_every == 1))
            time.sleep(self.every)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values()) - self._start

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())
        return False


def cli(*args: str, env: dict[str, str]) -> float:
    """Run `matching ARGS` and return its wall time; its output goes to ours."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "matching.cli", *args], check=True, env=env, cwd=ROOT)
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------- naive reference


def naive_lists(world, model: ScoringModel, p_rows: np.ndarray, k: int) -> tuple[dict[str, list[str]], int, float]:
    """Per-pair Python: every candidate pair of each sampled participant is scored on its own
    (a one-pair Pairs through every criterion) and kept in a heap. Returns the lists, the
    number of pairs scored and the seconds spent scoring (blocking excluded, it is shared)."""
    out, n, spent = {}, 0, 0.0
    day = TODAY.toordinal()
    tie = world.openings.tie_rank  # lists rank by the shown score, then this (matching/topk.py)
    crit = MatchEngine(world, model, TODAY).criteria
    for p in p_rows:
        pairs = candidates.for_participants(world, [p], TODAY)
        t0 = time.perf_counter()
        heap: list[tuple] = []
        for o in pairs.o.tolist():
            one = Pairs.build(world, [p], [o], day)
            score = float(model.score(evaluate(one, crit).levels)[0])
            item = (float(topk.shown(np.array([score]))[0]), -tie[o], o)
            if len(heap) < k:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
        spent += time.perf_counter() - t0
        n += len(pairs)
        out[str(world.participants.ids[p])] = [str(world.openings.ids[o]) for *_, o in sorted(heap, reverse=True)]
    return out, n, spent


# ---------------------------------------------------------------------------- lower bound


def brute_force_bound(world, k: int, max_participants: int, chunk: int = 512) -> tuple[float, int]:
    """Seconds per pair (one core) of scoring EVERY participant × opening with a 3-feature
    linear model — haversine km (unit vectors, one BLAS product, arcsin), an occupation table
    lookup and hours over the wish — and keeping each participant's top-k, in float32."""
    from threadpoolctl import threadpool_limits

    def unit(lat, lon):
        la, lo = np.radians(lat), np.radians(lon)
        return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)]).astype(np.float32)

    pw, ow = world.participants, world.openings
    up, uo = unit(pw.lat, pw.lon), unit(ow.lat, ow.lon)
    codes = np.unique(np.r_[ow.code, pw.desired_codes[:, 0]])
    pc, oc = np.searchsorted(codes, pw.desired_codes[:, 0]), np.searchsorted(codes, ow.code)
    shared = sum((codes[:, None] // d == codes[None, :] // d).astype(np.float32) for d in (1000, 100, 10, 1))
    table = (0.25 * shared).astype(np.float32)  # occupation weight per shared STYRK digit
    hours_o = ow.frame["hours_per_week"].to_numpy(np.float32)
    max_h = pw.frame["max_hours_per_week"].to_numpy(np.float32)
    two_r = np.float32(2 * EARTH_RADIUS_KM)
    rows = np.arange(min(len(pw), max_participants))
    t0 = time.perf_counter()
    with threadpool_limits(1):
        for a in range(0, len(rows), chunk):
            r = rows[a : a + chunk]
            cos = up[r] @ uo.T
            km = two_r * np.arcsin(np.sqrt(np.clip((1 - cos) * np.float32(0.5), 0, 1)))
            score = np.float32(-0.05) * km + table[pc[r]][:, oc] - np.float32(0.1) * np.maximum(hours_o - max_h[r, None], 0)
            top = np.argpartition(-score, min(k, score.shape[1] - 1), axis=1)[:, :k]
            np.take_along_axis(score, top, axis=1).argsort(axis=1)
    spent = time.perf_counter() - t0
    n = len(rows) * len(ow)
    return spent / n, n


# ---------------------------------------------------------------------------- main


def record(row: dict[str, str]) -> None:
    header = list(row)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    line = "| " + " | ".join(row.values()) + " |"
    if SECTION not in text:
        intro = (
            "\nWritten by `benchmarks/refresh.py --record` (one row per run). ns/pair/core = wall × cores "
            "used ÷ candidate pairs scored; the references are measured in the same run.\n\n"
        )
        table = "| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"
        text = text.rstrip("\n") + "\n\n" + SECTION + "\n" + intro + table + line + "\n"
    else:
        head, _, tail = text.partition(SECTION)
        body, sep, rest = tail.partition("\n## ")
        lines = body.split("\n")
        rows = [i for i, x in enumerate(lines) if x.startswith("| 20")]  # the table's last row, not the prose after it
        if rows:
            lines.insert(rows[-1] + 1, line)
            body = "\n".join(lines)
        else:
            body = body.rstrip("\n") + "\n" + line + "\n"
        text = head + SECTION + body + (("\n## " + rest) if sep else "")
    RESULTS.write_text(text, encoding="utf-8")


def capped_refresh(engine, env: dict[str, str], args) -> None:
    """A refresh too long to wait for: run it, watch memory and progress, kill it (SIGKILL)
    at the cap, project the full time, and check that the served run is untouched."""
    import signal

    from sqlalchemy import func, select

    from matching.store import tables as t

    with engine.connect() as conn:
        served = lists.serving(conn)
        n_participants = conn.execute(select(func.count()).select_from(t.participants)).scalar()
    cmd = [sys.executable, "-m", "matching.cli", "refresh", "--no-progress", "--jobs", str(args.jobs)]
    env = {**env, "MATCHING_TOP_K": str(args.top_k), "MATCHING_MODEL_DIR": str(ROOT / "models")}
    progress: list[tuple[float, int]] = []
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    t0 = time.perf_counter()
    with TreeMonitor(pid=proc.pid) as mon:
        while time.perf_counter() - t0 < args.max_refresh_seconds and proc.poll() is None:
            time.sleep(5)
            with engine.connect() as conn:
                run = conn.execute(select(t.runs.c.run_id).where(t.runs.c.status == RunStatus.running)).scalar()
                done = (
                    run
                    and conn.execute(
                        select(func.count()).select_from(t.participant_lists).where(t.participant_lists.c.run_id == run)
                    ).scalar()
                )
            progress.append((time.perf_counter() - t0, done or 0))
            print(
                f"  {progress[-1][0]:6.0f} s  {done or 0:,} participant lists written, "
                f"tree RSS now {mon._sample() / 2**20:,.0f} MiB, peak {mon.peak / 2**20:,.0f} MiB",
                flush=True,
            )
        killed = proc.poll() is None
        if killed:
            for child in mon.proc.children(recursive=True):  # its workers too, as an OOM kill would
                child.send_signal(signal.SIGKILL)
            proc.send_signal(signal.SIGKILL)
            print("  refresh SIGKILLed", flush=True)
        proc.wait()
    elapsed = time.perf_counter() - t0
    with engine.connect() as conn:
        after = lists.serving(conn)
    first = next(((s, d) for s, d in progress if d), None)
    last = progress[-1] if progress else (elapsed, 0)
    print(f"sizes        {n_participants:,} participants, top-{args.top_k}, jobs={args.jobs}; load avg {os.getloadavg()[0]:.1f}")
    print(f"peak PSS     {mon.peak / 2**20:8.0f} MiB (refresh process + workers), CPU {mon.cpu_seconds:,.0f} s")
    if first and last[1] > first[1]:
        rate = (last[1] - first[1]) / (last[0] - first[0])
        print(
            f"progress     {last[1]:,} of {n_participants:,} participant lists in {last[0]:.0f} s "
            f"(first after {first[0]:.0f} s); {rate:,.0f} participants/s → full run ≈ "
            f"{first[0] + (n_participants - first[1]) / rate:,.0f} s"
        )
    print(
        f"killed       {killed} after {elapsed:.0f} s; served run before {served and served.run_id}, "
        f"after {after and after.run_id}: {'unchanged' if served == after else 'CHANGED'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--participants", type=int, default=20000)
    ap.add_argument("--openings", type=int, default=5000)
    ap.add_argument("--employers", type=int, default=None, help="default: openings / 6")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--backend", choices=["local", "dask"], default="local")
    ap.add_argument("--jobs", type=int, default=2, help="local worker processes (dask: LocalCluster workers)")
    ap.add_argument("--top-k", type=int, default=50)
    ap.add_argument("--shard-size", type=int, default=None)
    ap.add_argument("--data", type=Path, default=None, help="reuse (or keep) the generated data here")
    ap.add_argument("--db", type=Path, default=None, help="reuse (or keep) the loaded SQLite database here")
    ap.add_argument("--naive-sample", type=int, default=20, help="participants scored pair by pair")
    ap.add_argument("--bound-sample", type=int, default=20000, help="participants for the brute-force bound")
    ap.add_argument("--record", action="store_true", help="append a row to benchmarks/RESULTS.md")
    ap.add_argument(
        "--max-refresh-seconds",
        type=float,
        default=None,
        help="run `matching refresh` as a process and SIGKILL it after this long: prints memory, "
        "progress, a projection, and checks the served run did not change",
    )
    args = ap.parse_args()

    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-refresh-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # --data / --db keep theirs elsewhere
    data = args.data or tmp / "data"
    db_path = args.db or tmp / "bench.db"
    url = f"sqlite:///{db_path}"
    env = {
        **os.environ,
        "MATCHING_DATABASE_URL": url,
        "MATCHING_TODAY": TODAY.isoformat(),
        "MATCHING_SECRET_KEY": "x" * 48,
        "PYTHONPATH": str(ROOT),
    }
    t_gen = t_load = 0.0
    if not (data / "participants.csv").exists():
        t_gen = cli(
            "generate",
            str(data),
            "--seed",
            str(args.seed),
            "--participants",
            str(args.participants),
            "--openings",
            str(args.openings),
            "--employers",
            str(args.employers or max(60, args.openings // 6)),
            env=env,
        )
        (data / "outcomes.csv").unlink(missing_ok=True)  # training history: not needed for a refresh
    if not db_path.exists():
        t_load = cli("load", str(data), env=env)

    settings = Settings(database_url=url, today=TODAY, top_k=args.top_k, model_dir=ROOT / "models", secret_key="x" * 48)
    engine = make_engine(url)
    if args.max_refresh_seconds:
        return capped_refresh(engine, env, args)
    extra = {"shard_size": args.shard_size} if args.shard_size else {}
    if args.backend == "dask":
        extra["dask_workers"] = args.jobs
    with TreeMonitor() as rss:
        t0 = time.perf_counter()
        summary = refresh(settings, backend=args.backend, n_jobs=args.jobs, db=engine, **extra)
        wall = time.perf_counter() - t0
    scored = summary.extra.get("scored_pairs", 0)
    db_mb = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 1e6
    load_after = os.getloadavg()

    with engine.connect() as conn:
        world = load_world(conn)
        stored = lists.run_lists(conn, summary.run_id)
    model = ScoringModel.load(settings.model_dir)
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(len(world.participants), min(args.naive_sample, len(world.participants)), replace=False))
    naive, n_naive, t_naive = naive_lists(world, model, sample, args.top_k)
    agree = all([o for _, o, _ in stored.get(pid, [])] == items for pid, items in naive.items())
    naive_ns = t_naive / max(n_naive, 1) * 1e9
    bound_s, n_bound = brute_force_bound(world, args.top_k, args.bound_sample)
    bound_ns = bound_s * 1e9
    cores = args.jobs
    ns_core = wall * cores / max(scored, 1) * 1e9
    ns_cpu = rss.cpu_seconds / max(scored, 1) * 1e9
    all_pairs = len(world.participants) * len(world.openings)

    print(
        f"machine      {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"load avg before {load_before[0]:.1f}, after {load_after[0]:.1f}"
    )
    print(
        f"sizes        {len(world.participants):,} participants × {len(world.openings):,} openings ({all_pairs:,} pairs), top-{args.top_k}"
    )
    if t_gen or t_load:
        print(f"generate     {t_gen:8.1f} s    load {t_load:8.1f} s (command line)")
    print(
        f"refresh      {wall:8.1f} s wall  backend={summary.backend} jobs={args.jobs}  "
        f"{summary.n_participants:,} participant lists, {summary.n_openings:,} opening lists"
    )
    if "snapshot_seconds" in summary.extra:
        print(
            f"phases       snapshot read + encoded at {summary.extra['snapshot_seconds']:.1f} s, "
            f"last shard stored at {summary.extra['shards_done_seconds']:.1f} s, published at {wall:.1f} s"
        )
    if "shards_cpu_seconds" in summary.extra:
        print(
            f"parent CPU   snapshot {summary.extra['snapshot_cpu_seconds']:.1f} s, "
            f"shard phase {summary.extra['shards_cpu_seconds']:.1f} s (storing lists, merging the opening side)"
        )
    if "pruned_before_shards" in summary.extra:
        print(f"pruning      old runs' lists deleted before the first shard: {'yes' if summary.extra['pruned_before_shards'] else 'no'}")
    if "recommended_written_seconds" in summary.extra:
        x = summary.extra
        print(
            f"tail         allocation {x['allocation_seconds']:.1f} s ({x['allocation_cpu_seconds']:.1f} CPU s here), "
            f"recommended-now lists written at {x['recommended_written_seconds']:.1f} s, "
            f"opening lists built at {x['opening_lists_built_seconds']:.1f} s"
        )
    print(
        f"scored       {scored:,} candidate pairs ({scored / max(all_pairs, 1):.1%} of all pairs), "
        f"{scored / wall:,.0f} pairs/s, {ns_core:,.0f} ns/pair/core (wall × cores), "
        f"{ns_cpu:,.0f} ns CPU/pair ({rss.cpu_seconds:,.1f} CPU s)"
    )
    print(f"peak PSS     {rss.peak / 2**20:8.0f} MiB (this process + workers, shared pages once)")
    print(f"db size      {db_mb:8.1f} MB")
    print(
        f"naive        {naive_ns:,.0f} ns/pair over {n_naive:,} pairs of {len(sample)} participants → "
        f"extrapolated {naive_ns * scored / 1e9 / cores:,.0f} s on {cores} cores "
        f"({naive_ns / ns_cpu:,.0f}× the refresh's CPU per pair); lists equal the stored ones: {agree}"
    )
    print(
        f"lower bound  {bound_ns:,.2f} ns/pair over {n_bound:,} pairs (every pair, 3 features, 1 core) → "
        f"{bound_ns * all_pairs / 1e9 / cores:,.1f} s for all pairs on {cores} cores; "
        f"refresh is {ns_core / bound_ns:,.0f}× the bound per scored pair (wall × cores), {ns_cpu / bound_ns:,.0f}× (CPU)"
    )
    if args.record:
        cmd = "python benchmarks/refresh.py " + shlex.join(a for a in sys.argv[1:] if a != "--record")
        record(
            {
                "date (UTC)": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
                "participants × openings": f"{len(world.participants):,} × {len(world.openings):,}",
                "command": f"`{cmd}`",
                "wall s": f"{wall:.1f}",
                "pairs scored": f"{scored:,}",
                "pairs/s": f"{scored / wall:,.0f}",
                "ns/pair/core": f"{ns_core:,.0f}",
                "CPU ns/pair": f"{ns_cpu:,.0f}",
                "peak RSS MiB": f"{rss.peak / 2**20:,.0f}",
                "DB MB": f"{db_mb:,.1f}",
                "naive ns/pair": f"{naive_ns:,.0f}",
                "bound ns/pair": f"{bound_ns:,.2f}",
                "× bound (wall, CPU)": f"{ns_core / bound_ns:,.0f}, {ns_cpu / bound_ns:,.0f}",
                "load avg": f"{load_before[0]:.1f}→{load_after[0]:.1f}",
            }
        )
    if not agree:
        sys.exit("the naive reference disagrees with the stored lists")


if __name__ == "__main__":
    main()
