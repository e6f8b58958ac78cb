"""Live ranking through the real HTTP API under concurrent load: p50/p95/p99 and requests/s.

    .venv/bin/python benchmarks/live.py --participants 10000 --openings 50000 \
        [--data DIR] [--db FILE] [--concurrency 10] [--requests 2000] [--seconds 60] [--workers 1]

Steps (each printed with its wall time):
1. data: `matching generate` (the CLI, so whichever generator the project ships is used) into
   a temporary directory, or an existing directory given with --data;
2. database: `matching load` into a temporary SQLite file, or an already loaded one (--db);
3. a stored run for the comparison read: `matching refresh` unless one is published
   (--no-stored skips the stored-list scenario and the refresh);
4. the server: `matching serve --workers W` as a subprocess, signed JWTs (advisers of each
   participant's office, liaisons of each opening's office);
5. warm-up until the snapshot is built, then a closed-loop load generator (asyncio, N clients
   on N keep-alive connections, each sending its next request as soon as the previous answer
   arrived), bounded by --requests per scenario and --seconds per scenario. `--client raw`
   (the default since session 21) speaks HTTP/1.1 on asyncio streams; `--client httpx` is the
   client of the earlier sessions, which cost ~1.2-1.4 ms of CPU per request on the same two
   cores as the server (a closed loop's latency grows with the total CPU per request, so
   figures taken with the two clients do not compare).

Scenarios: participant → openings `fresh=true` (the adviser's live list against all
openings), opening → participants `fresh=true` (against all participants), the stored list
of the published run, and a posted profile (POST /v1/match). Only 200 responses count;
errors are reported. The load generator runs on the same 2 cores as the server, so the
figures include its cost. Results are appended to benchmarks/RESULTS.md under "## Live ranking".
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import secrets
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.auth import create_token  # noqa: E402
from matching.config import Settings  # noqa: E402
from worldgen import REFERENCE_DATE  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Live ranking"
TODAY = REFERENCE_DATE + dt.timedelta(days=1)


def cli(*args: str, env: dict[str, str]) -> float:
    """Run `matching ARGS` and return its wall time; a failure stops the benchmark."""
    cmd = [sys.executable, "-m", "matching.cli", *args]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> str:
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return f"{platform.machine()}, {os.cpu_count()} CPUs (nproc), {mem_kib / 1024**2:.1f} GiB RAM, Python {platform.python_version()}"


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU of a process and its children (uvicorn workers), from /proc."""
    return sum(cpu_by_process(root_pid).values())


def cpu_by_process(root_pid: int) -> dict[int, float]:
    """User + system CPU seconds of a process and of each of its children, by pid, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == root_pid or ppid == root_pid:
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def busiest_share(before: dict[int, float], after: dict[int, float]) -> float:
    """The busiest server process's share of the server's CPU between two readings: 1 / workers
    when the load is spread evenly, 1.0 when one process did all the work."""
    used = [after[pid] - before.get(pid, 0.0) for pid in after]
    total = sum(used)
    return max(used) / total if total > 0 else float("nan")


def peak_rss_mib(root_pid: int) -> dict[int, float]:
    """Peak resident memory (VmHWM) of a process and its children (uvicorn workers), MiB each."""
    out = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid, ppid = int(status.parent.name), int(fields.get("PPid", "0").strip() or 0)
        if (pid == root_pid or ppid == root_pid) and "VmHWM" in fields:
            out[pid] = int(fields["VmHWM"].split()[0]) / 1024
    return out


def memory_now_mib(root_pid: int) -> dict[int, tuple[float, float]]:
    """Resident (RSS) and proportional (PSS: shared pages split between the processes sharing
    them) memory now, per process of the server tree, MiB, from /proc/PID/smaps_rollup. The
    PSS values add up to what the server really holds; RSS counts a page shared by the forked
    workers once in each of them."""
    out = {}
    for status in sorted(Path("/proc").glob("[0-9]*/status"), key=lambda p: int(p.parent.name)):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            pid, ppid = int(status.parent.name), int(fields.get("PPid", "0").strip() or 0)
            if pid != root_pid and ppid != root_pid:
                continue
            rollup = dict(line.split(":", 1) for line in (status.parent / "smaps_rollup").read_text().splitlines()[1:] if ":" in line)
        except OSError:
            continue
        out[pid] = (int(rollup["Rss"].split()[0]) / 1024, int(rollup["Pss"].split()[0]) / 1024)
    return out


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Outcome:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    wall: float = 0.0

    server_cpu: float = 0.0
    client_cpu: float = 0.0
    busiest: float = float("nan")  # the busiest server process's share of the server CPU

    def row(self) -> dict[str, float]:
        ms = np.array(self.latencies) * 1000
        if not len(ms):
            return {"n": 0}
        n = len(ms) + sum(self.errors.values())
        return {
            "n": len(ms),
            "p50": float(np.percentile(ms, 50)),
            "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)),
            "max": float(ms.max()),
            "rps": len(ms) / self.wall,
            "server_cpu_ms": 1000 * self.server_cpu / n,
            "client_cpu_ms": 1000 * self.client_cpu / n,
            "busiest": self.busiest,
        }


async def closed_loop(
    base: str, name: str, requests: list[tuple[str, str, dict, dict | None]], concurrency: int, max_requests: int, max_seconds: float
) -> Outcome:
    """N clients; each sends its next request when its previous answer is in."""
    out = Outcome(name)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    next_i = 0
    stop_at = time.perf_counter() + max_seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal next_i
        while next_i < max_requests and time.perf_counter() < stop_at:
            method, url, headers, body = requests[next_i % len(requests)]
            next_i += 1
            start = time.perf_counter()
            res = await http.request(method, url, headers=headers, json=body)
            elapsed = time.perf_counter() - start
            if res.status_code == 200:
                out.latencies.append(elapsed)
            else:
                out.errors[res.status_code] = out.errors.get(res.status_code, 0) + 1

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        out.wall = time.perf_counter() - start
    return out


class RawClient:
    """One keep-alive HTTP/1.1 connection on asyncio streams: what `closed_loop` needs of an
    HTTP client (send a request, read the whole answer), without httpx's per-request machinery
    (~1.2-1.4 ms of CPU per request on this box, on the same two cores as the server). Handles
    Content-Length and chunked bodies, and reconnects when the server closes the connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, url: str, headers: dict, body: dict | None) -> int:
        """Send one request and read its whole answer; the status code."""
        payload = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {url} HTTP/1.1", f"Host: {self.host}:{self.port}", *(f"{k}: {v}" for k, v in headers.items())]
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(data)
        status_line, *lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
        if fields.get("transfer-encoding", "").lower() == "chunked":
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        else:
            await self.reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return int(status_line.split(" ", 2)[1])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def closed_loop_raw(
    base: str, name: str, requests: list[tuple[str, str, dict, dict | None]], concurrency: int, max_requests: int, max_seconds: float
) -> Outcome:
    """`closed_loop` with `RawClient`: N clients, each on its own keep-alive connection (as
    httpx's pool of N gives them), each sending its next request when its previous answer is
    in; latency from before the request is written to after the last byte of the answer."""
    out = Outcome(name)
    host, port = base.removeprefix("http://").rsplit(":", 1)
    next_i = 0
    stop_at = time.perf_counter() + max_seconds

    async def client() -> None:
        nonlocal next_i
        http = RawClient(host, int(port))
        try:
            while next_i < max_requests and time.perf_counter() < stop_at:
                method, url, headers, body = requests[next_i % len(requests)]
                next_i += 1
                start = time.perf_counter()
                status = await asyncio.wait_for(http.request(method, url, headers, body), timeout=120)
                elapsed = time.perf_counter() - start
                if status == 200:
                    out.latencies.append(elapsed)
                else:
                    out.errors[status] = out.errors.get(status, 0) + 1
        finally:
            await http.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    out.wall = time.perf_counter() - start
    return out


def wait_for_server(base: str, proc: subprocess.Popen, timeout: float = 900) -> None:
    """Until /healthz answers (several workers answer only once the snapshot is built)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit("server did not become healthy")


def sample(db_path: Path, n: int, seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict]:
    """Random participants and open openings (with their offices), and one stored profile."""
    with sqlite3.connect(db_path) as conn:
        people = conn.execute("SELECT participant_id, office_id FROM participants ORDER BY random() LIMIT ?", (n,)).fetchall()
        jobs = conn.execute("SELECT opening_id, office_id FROM openings WHERE status = 'open' ORDER BY random() LIMIT ?", (n,)).fetchall()
        cols = [
            "postal_code",
            "max_commute_km",
            "desired_titles",
            "desired_styrk08",
            "skills",
            "experience",
            "education_level",
            "norwegian_level",
            "driving_licences",
            "max_hours_per_week",
            "wants_part_time",
            "goal",
            "adaptation_needs",
            "shares_needs_with_employers",
            "preferred_industries",
        ]
        row = conn.execute(f"SELECT {', '.join(cols)} FROM participants LIMIT 1").fetchone()
    profile = dict(zip(cols, row))
    for c in ("desired_titles", "desired_styrk08", "skills", "experience", "driving_licences", "adaptation_needs", "preferred_industries"):
        profile[c] = json.loads(profile[c])
    profile["wants_part_time"] = bool(profile["wants_part_time"])
    profile["shares_needs_with_employers"] = bool(profile["shares_needs_with_employers"])
    return people, jobs, profile


def brute_force_ms(db_path: Path, people: list[tuple[str, str]], k: int = 50) -> float:
    """The box's floor for one participant → openings ranking, in-process, no HTTP or DB:
    every opening scored by a 3-feature linear model (haversine distance, occupation lookup,
    hours difference) in numpy, top-k by partial sort. Median ms per participant."""
    with sqlite3.connect(db_path) as conn:
        o = np.array(conn.execute("SELECT lat, lon, CAST(styrk08 AS INTEGER), hours_per_week FROM openings").fetchall(), dtype=float)
        ids = [p for p, _ in people[:200]]
        rows = conn.execute(
            f"SELECT lat, lon, desired_styrk08, max_hours_per_week FROM participants WHERE participant_id IN ({','.join('?' * len(ids))})",
            ids,
        ).fetchall()
    o_lat, o_lon, o_code, o_hours = np.radians(o[:, 0]), np.radians(o[:, 1]), o[:, 2].astype(int), o[:, 3]
    times = []
    for lat, lon, desired, hours in rows:
        start = time.process_time()  # CPU, like the server figure: wall time depends on the box's load
        lat, lon = np.radians(lat), np.radians(lon)
        a = np.sin((o_lat - lat) / 2) ** 2 + np.cos(lat) * np.cos(o_lat) * np.sin((o_lon - lon) / 2) ** 2
        km = 2 * 6371.0 * np.arcsin(np.sqrt(a))
        occupation = np.zeros(10_000)
        occupation[[int(c) for c in json.loads(desired)]] = 1.0
        score = -0.05 * km + 2.0 * occupation[o_code] - 0.02 * np.abs(o_hours - hours)
        top = np.argpartition(-score, min(k, len(score) - 1))[:k]
        top[np.argsort(-score[top])]
        times.append(time.process_time() - start)
    return float(np.median(times) * 1000) if times else float("nan")


def has_published_run(db_path: Path) -> bool:
    with sqlite3.connect(db_path) as conn:
        try:
            return conn.execute("SELECT count(*) FROM serving").fetchone()[0] > 0
        except sqlite3.OperationalError:
            return False


def write_results(heading: str, text: str) -> None:
    """Put this run under "## Live ranking" in RESULTS.md as its own "### heading" (replacing a
    run of the same sizes and workers), keeping every other section and run."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    start = current.find(SECTION + "\n")
    if start < 0:
        current, start = current.rstrip() + "\n\n" + SECTION + "\n\n" + INTRO + "\n", len(current.rstrip()) + 2
    end = current.find("\n## ", start + len(SECTION))
    end = len(current) if end < 0 else end + 1
    section = current[start:end]
    runs = section.split("\n### ")
    kept = [r for r in runs[1:] if not r.startswith(heading + "\n")]
    section = "\n### ".join([runs[0].rstrip() + "\n", *[r.rstrip() + "\n" for r in kept], text.rstrip() + "\n"])
    RESULTS.write_text(current[:start] + section + ("\n" + current[end:] if end < len(current) else ""), encoding="utf-8")


INTRO = (
    "Written by `benchmarks/live.py` (one subsection per size and worker count; rerun to replace). "
    "The machine is shared with other helpers' work: wall-clock latencies depend on the load average "
    "printed with each run; server CPU per request does much less."
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--participants", type=int, default=10_000)
    ap.add_argument("--openings", type=int, default=50_000)
    ap.add_argument("--employers", type=int, default=None, help="default: openings / 10")
    ap.add_argument("--seed", type=int, default=2013)
    ap.add_argument("--data", type=Path, help="reuse this generated directory (generated there if empty)")
    ap.add_argument("--db", type=Path, help="reuse this SQLite file (loaded there if missing)")
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--requests", type=int, default=2000, help="per scenario")
    ap.add_argument("--seconds", type=float, default=60, help="per scenario")
    ap.add_argument("--warmup", type=int, default=50, help="requests per scenario before measuring")
    ap.add_argument("--workers", type=int, default=None, help="server worker processes (default: `matching serve`'s, one per core)")
    ap.add_argument("--limit", type=int, default=10, help="list length asked for")
    ap.add_argument("--note", default="", help="a line for RESULTS.md, e.g. how a reused --db was made")
    ap.add_argument(
        "--stored",
        default=True,
        action=argparse.BooleanOptionalAction,
        help="also measure the stored-list read (runs `matching refresh` if no run is published)",
    )
    ap.add_argument(
        "--only-stored",
        default=False,
        action=argparse.BooleanOptionalAction,
        help="a worker that serves only stored lists: MATCHING_SNAPSHOT_WARM=false, only the "
        "stored-list scenario, no live warm-up (its peak RSS is what it costs)",
    )
    ap.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="the load generator's HTTP client: raw (asyncio streams, `RawClient`; ~0.3 ms CPU per request) "
        "or httpx (the client of session 20 and before; ~1.2-1.4 ms CPU per request on the same cores as the server)",
    )
    ap.add_argument(
        "--write", default=True, action=argparse.BooleanOptionalAction, help=f"write the figures to {RESULTS.relative_to(ROOT)}"
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    data = args.data or tmp / "data"
    db_path = args.db or tmp / "live.db"
    secret = secrets.token_urlsafe(48)
    env = {
        **os.environ,
        "MATCHING_DATABASE_URL": f"sqlite:///{db_path}",
        "MATCHING_SECRET_KEY": secret,
        "MATCHING_ENVIRONMENT": "benchmark",
        "MATCHING_TODAY": TODAY.isoformat(),
        # a load test is many requests from few tokens: measure the engine, not the rate limit
        "MATCHING_RATE_LIMIT_ENABLED": os.environ.get("MATCHING_RATE_LIMIT_ENABLED", "false"),
    }
    if args.only_stored:
        env["MATCHING_SNAPSHOT_WARM"] = "false"
    steps: list[str] = []

    def step(text: str) -> None:
        steps.append(text)
        print(text, flush=True)

    step(f"machine: {machine()}; load average at start {load_average()}")
    if not db_path.exists() and not (data / "participants.csv").exists():
        secs = cli(
            "generate",
            str(data),
            "--participants",
            str(args.participants),
            "--openings",
            str(args.openings),
            "--employers",
            str(args.employers or max(60, args.openings // 10)),
            "--seed",
            str(args.seed),
            env=env,
        )
        step(f"generate: {secs:.1f} s → {data}")
    if not db_path.exists():
        secs = cli("load", str(data), env=env)
        step(f"load (SQLite): {secs:.1f} s → {db_path}")
    with sqlite3.connect(db_path) as conn:
        n_p, n_o, n_open = (
            conn.execute(q).fetchone()[0]
            for q in (
                "SELECT count(*) FROM participants",
                "SELECT count(*) FROM openings",
                "SELECT count(*) FROM openings WHERE status = 'open'",
            )
        )
    step(f"sizes: {n_p} participants, {n_o} openings ({n_open} open)")
    if args.stored and not has_published_run(db_path):
        secs = cli("refresh", "--no-progress", env=env)
        step(f"refresh (for the stored-list read): {secs:.1f} s")

    settings = Settings(secret_key=secret, environment="benchmark")
    people, jobs, profile = sample(db_path, max(args.requests, 500), args.seed)
    floor = brute_force_ms(db_path, people)
    step(
        f"reference floor (numpy brute force, 3-feature linear score of all {n_o} openings, top-50, "
        f"in-process, one participant): {floor:.2f} ms CPU median"
    )
    adviser = {o: create_token("bench-adviser", "adviser", [o], settings) for o in {office for _, office in people}}
    liaison = {o: create_token("bench-liaison", "liaison", [o], settings) for o in {office for _, office in jobs}}
    any_adviser = next(iter(adviser.values()))
    lim = args.limit
    scenarios = {
        "participant → openings, fresh": [
            ("GET", f"/v1/participants/{p}/matches?fresh=true&limit={lim}", {"Authorization": f"Bearer {adviser[o]}"}, None)
            for p, o in people
        ],
        "opening → participants, fresh": [
            ("GET", f"/v1/openings/{j}/candidates?fresh=true&limit={lim}", {"Authorization": f"Bearer {liaison[o]}"}, None) for j, o in jobs
        ],
        "posted profile (POST /v1/match)": [("POST", f"/v1/match?limit={lim}", {"Authorization": f"Bearer {any_adviser}"}, profile)],
    }
    if args.stored:
        scenarios["participant → openings, stored run"] = [
            ("GET", f"/v1/participants/{p}/matches?limit={lim}", {"Authorization": f"Bearer {adviser[o]}"}, None) for p, o in people
        ]
    if args.only_stored:
        scenarios = {k: v for k, v in scenarios.items() if "stored" in k}

    load = closed_loop_raw if args.client == "raw" else closed_loop
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [sys.executable, "-m", "matching.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if args.workers is not None:
        serve += ["--workers", str(args.workers)]
    else:
        args.workers = len(os.sched_getaffinity(0))  # matching serve's default (matching.cli.default_workers)
    server = subprocess.Popen(serve, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rows: dict[str, dict] = {}
    errors: dict[str, dict] = {}
    try:
        start = time.perf_counter()
        wait_for_server(base, server)
        # With several workers the snapshot is built before they fork (api/serve.py); one worker
        # builds it in the background and the first fresh request may wait for it.
        first = scenarios["participant → openings, stored run" if args.only_stored else "participant → openings, fresh"]
        for i in range(args.workers * 4):
            method, url, headers, body = first[i % len(first)]
            res = httpx.request(method, base + url, headers=headers, json=body, timeout=600)
            if res.status_code != 200:
                sys.exit(f"warm-up request failed: {res.status_code} {res.text[:300]}")
        step(
            f"server up{'' if args.only_stored else ' and snapshot built'}: {time.perf_counter() - start:.1f} s "
            f"({args.workers} server worker(s){', MATCHING_SNAPSHOT_WARM=false' if args.only_stored else ''})"
        )
        for name, reqs in scenarios.items():
            random.Random(args.seed).shuffle(reqs)
            asyncio.run(load(base, name, reqs[-args.warmup :] or reqs, args.concurrency, args.warmup, args.seconds))
            cpu0, own0 = cpu_by_process(server.pid), time.process_time()
            outcome = asyncio.run(load(base, name, reqs, args.concurrency, args.requests, args.seconds))
            cpu1 = cpu_by_process(server.pid)
            outcome.server_cpu, outcome.client_cpu = sum(cpu1.values()) - sum(cpu0.values()), time.process_time() - own0
            outcome.busiest = busiest_share(cpu0, cpu1)
            rows[name], errors[name] = outcome.row(), outcome.errors
            r = rows[name]
            print(
                f"{name:36s} n={r['n']:5d}  p50 {r.get('p50', 0):7.1f} ms  p95 {r.get('p95', 0):7.1f} ms  "
                f"p99 {r.get('p99', 0):7.1f} ms  {r.get('rps', 0):7.1f} req/s  server CPU {r.get('server_cpu_ms', 0):.1f} ms/req  "
                f"busiest process {100 * r.get('busiest', float('nan')):.0f} %  "
                f"errors {outcome.errors or 0}",
                flush=True,
            )
        now = memory_now_mib(server.pid)
        step(
            f"server memory at the end: PSS {sum(p for _, p in now.values()):.0f} MiB in all "
            f"(per process PSS / RSS: {', '.join(f'{p:.0f} / {r:.0f}' for r, p in now.values())} MiB; "
            f"{'the first is the master, ' if len(now) > 1 else ''}from /proc/PID/smaps_rollup)"
        )
        rss = peak_rss_mib(server.pid)
        step(
            "server peak RSS (VmHWM): "
            + ", ".join(f"{mib:.0f} MiB" for mib in rss.values())
            + f" (process{'es' if len(rss) > 1 else ''}: {'gunicorn master + workers' if len(rss) > 1 else 'uvicorn'})"
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)  # only what this run generated (--data/--db live elsewhere)

    command = "python benchmarks/live.py " + shlex.join(sys.argv[1:])
    heading = f"{n_p} participants × {n_o} openings, {args.workers} worker(s), {args.concurrency} concurrent" + (
        ", stored lists only" if args.only_stored else ""
    )
    client_name = "raw HTTP/1.1 streams (--client raw)" if args.client == "raw" else "httpx (--client httpx)"
    lines = [
        heading,
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {machine()}",
        f"- load average when done: {load_average()} (shared machine: other work was running)",
        f"- command: `{command}`",
        f"- sizes: {n_p} participants, {n_o} openings ({n_open} open); limit={lim}; "
        f"{args.concurrency} concurrent clients (closed loop, asyncio + {client_name} on the same box); "
        f"up to {args.requests} requests or {args.seconds:.0f} s per scenario after {args.warmup} warm-up requests; "
        f"{args.workers} server worker(s){' (the default)' if '--workers' not in serve else ''}; SQLite",
        *[f"- {s}" for s in steps[1:] if not s.startswith("sizes:")],
        *([f"- note: {args.note}"] if args.note else []),
        "",
        "Server CPU = user+system CPU of the uvicorn process(es) per request during the scenario (less "
        "sensitive to other load on the box than wall-clock latency); client CPU = the load generator's; "
        "busiest = the busiest server process's share of that CPU (50 % = the two workers shared the load evenly).",
        "",
        "| scenario | requests | p50 ms | p95 ms | p99 ms | max ms | req/s | server CPU ms/req | client CPU ms/req | busiest | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in rows.items():
        if r["n"]:
            lines.append(
                f"| {name} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | "
                f"{r['rps']:.1f} | {r['server_cpu_ms']:.1f} | {r['client_cpu_ms']:.1f} | {100 * r['busiest']:.0f} % | "
                f"{errors[name] or 'none'} |"
            )
        else:
            lines.append(f"| {name} | 0 | | | | | | | | | {errors[name]} |")
    text = "\n".join(lines)
    print("\n### " + text)
    if args.write:
        write_results(heading, text)
        print(f"\nwritten to {RESULTS}")
    if any(errors.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
