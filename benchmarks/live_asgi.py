"""The HTTP layer's CPU per request, in-process: the real app called as ASGI, no sockets.

    .venv/bin/python benchmarks/live_asgi.py --db FILE [--n 300] [--limit 10] [--seed 1]
        [--only stored|p2o|o2p|post]... [--profile KIND] [--profile-out FILE]

`benchmarks/live.py` measures the whole server (uvicorn, gunicorn, the sockets and a load
generator sharing the box); `benchmarks/live_inprocess.py` the serving calls without HTTP.
This one sits between them: the app `matching serve` runs (`api.app.create_app`), called
directly with an ASGI scope for each request — middleware, routing, the ~15 dependencies,
auth, audit (committed before the answer, as always), the response model and the JSON
encoding — so its CPU per request minus the in-process figure is what FastAPI costs, and
`benchmarks/live.py`'s server CPU minus this one is what uvicorn and the sockets cost.

Requests: the stored list read (participant → openings, the served run), the two fresh lists
and POST /v1/match with a stored participant's profile (a different one per request, titles
and no codes), each for --n random subjects; CPU time (`time.process_time`) per request.
Writes audit rows to the database: give it a copy.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import random
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from live_inprocess import TODAY, profiles, stats  # noqa: E402


async def call(app, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, bytes]:
    """One request through the ASGI app; (status, body)."""
    raw_path, _, query = path.partition("?")
    payload = json.dumps(body).encode() if body is not None else b""
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    status, chunks = 0, []

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _time_collections() -> list[tuple[int, float]]:
    """Each garbage collection while measuring: (generation, CPU ms of the collecting thread).
    A collection pauses the request it falls into (a tail-latency suspect under load)."""
    spent: list[tuple[int, float]] = []
    started: dict[str, float] = {}

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            started["t"] = time.thread_time()
        elif "t" in started:
            spent.append((info["generation"], (time.thread_time() - started.pop("t")) * 1000))

    gc.callbacks.append(note)
    return spent


def _time_thread_pool_calls() -> list[float]:
    """The routes' one thread-pool call (`api.deps.in_thread`), timed: its thread's CPU ms per
    request is the serving work; the rest of a request's CPU is the HTTP layer (routing,
    dependencies, auth, response model, encoding) and the hop itself."""
    from api import deps
    from api.routes import match, openings, participants

    spent: list[float] = []
    plain = deps.in_thread

    async def timed(fn):
        def work():
            start = time.thread_time()
            try:
                return fn()
            finally:
                spent.append((time.thread_time() - start) * 1000)

        return await plain(work)

    for module in (match, openings, participants):
        module.in_thread = timed  # type: ignore[attr-defined]
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, required=True, help="a loaded and refreshed SQLite database (a copy: audit rows are written)")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=("stored", "p2o", "o2p", "post"), action="append", help="measure only these kinds")
    ap.add_argument("--profile", choices=("stored", "p2o", "o2p", "post"), help="cProfile the requests of this kind")
    ap.add_argument("--profile-out", type=Path, help="also dump the cProfile stats here")
    args = ap.parse_args()

    os.environ["MATCHING_DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ["MATCHING_TODAY"] = TODAY.isoformat()
    os.environ.setdefault("MATCHING_SECRET_KEY", "benchmark-secret-" + "x" * 40)
    os.environ.setdefault("MATCHING_ENVIRONMENT", "benchmark")
    os.environ["MATCHING_RATE_LIMIT_ENABLED"] = "false"
    os.environ["MATCHING_SNAPSHOT_WARM"] = "false"
    from api.app import create_app
    from api.auth import create_token
    from matching import runtime
    from matching.config import get_settings

    settings = get_settings()
    only = set(args.only or ("stored", "p2o", "o2p", "post"))
    app = create_app(settings)
    in_thread_ms = _time_thread_pool_calls()
    gc_ms = _time_collections()
    if only & {"p2o", "o2p", "post"}:
        wall, cpu = time.perf_counter(), time.process_time()
        runtime.match_engine(settings, wait=runtime.FOREVER).employer  # noqa: B018 - as the first live request builds it
        print(f"snapshot built: {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")
    with sqlite3.connect(f"file:{args.db}?mode=ro", uri=True) as conn:
        people = conn.execute(
            "SELECT participant_id, office_id FROM participants WHERE rowid % 991 = ? LIMIT ?", (args.seed, args.n)
        ).fetchall()
        jobs = conn.execute(
            "SELECT opening_id, office_id FROM openings WHERE status = 'open' AND deadline >= ? AND rowid % 97 = ? LIMIT ?",
            (TODAY.isoformat(), args.seed, args.n),
        ).fetchall()
    random.Random(args.seed).shuffle(people)
    adviser = {o: create_token("bench-adviser", "adviser", [o], settings) for _, o in people}
    liaison = {o: create_token("bench-liaison", "liaison", [o], settings) for _, o in jobs}
    posted = profiles(args.db, args.n, args.seed)
    lim = args.limit
    p2o = [f"/v1/participants/{p}/matches?limit={lim}" for p, _ in people]
    kinds = {
        "stored": ("stored list read, p → o", [("GET", url, adviser[o], None) for url, (_, o) in zip(p2o, people)]),
        "p2o": ("fresh participant → openings", [("GET", url + "&fresh=true", adviser[o], None) for url, (_, o) in zip(p2o, people)]),
        "o2p": (
            "fresh opening → participants",
            [("GET", f"/v1/openings/{j}/candidates?fresh=true&limit={lim}", liaison[o], None) for j, o in jobs],
        ),
        "post": ("POST /v1/match", [("POST", f"/v1/match?limit={lim}", next(iter(adviser.values())), p) for p in posted]),
    }

    async def run() -> None:
        for kind, (name, reqs) in kinds.items():
            if kind not in only:
                continue
            for req in reqs[:3]:  # warm-up: first-use caches
                status, body = await call(app, *req)
                if status != 200:
                    sys.exit(f"{name}: warm-up answered {status}: {body[:300]!r}")
            prof = cProfile.Profile(time.process_time) if args.profile == kind else None  # CPU, not wall: a cold page is no cost of ours
            ms = []
            if prof:
                prof.enable()
            in_thread_ms.clear()
            gc_ms.clear()
            for req in reqs:
                start = time.process_time()
                status, body = await call(app, *req)
                ms.append((time.process_time() - start) * 1000)
                if status != 200:
                    sys.exit(f"{name}: answered {status}: {body[:300]!r}")
            if prof:
                prof.disable()
            print(f"{name:32s} {stats(ms)}")
            if in_thread_ms:
                print(f"{'  of which the thread-pool call':32s} {stats(list(in_thread_ms))}")
            by_gen = {g: [ms for gen, ms in gc_ms if gen == g] for g in (0, 1, 2)}
            print(
                f"{'  garbage collections':32s} "
                + ", ".join(
                    f"gen {g}: {len(v)} × {sum(v) / max(len(v), 1):.2f} ms (max {max(v, default=0):.2f})" for g, v in by_gen.items()
                )
            )
            if prof:
                st = pstats.Stats(prof).sort_stats("cumulative")
                st.print_stats(45)
                st.sort_stats("tottime").print_stats(30)
                if args.profile_out:
                    st.dump_stats(str(args.profile_out))

    asyncio.run(run())
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
