"""Typeahead over HTTP: `GET /v1/taxonomy/occupations?q=…` as people type, p50/p95/p99.

    .venv/bin/python benchmarks/typeahead.py [--titles 300] [--concurrency 1]

A real `matching serve` (one uvicorn worker, an empty SQLite database: the typeahead reads no
rows) and a real JWT. The queries are what a person sends while typing NAV job titles: every
prefix of 2 or more characters of `--titles` titles drawn (seeded) from NAV's title list, in
typing order. The first request builds the title model and is a warm-up, not counted. With
`--concurrency N`, N people type at once (closed loop). Latency includes the client on the
same 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.auth import create_token  # noqa: E402
from matching.config import Settings  # noqa: E402


def _queries(n_titles: int, seed: int) -> list[list[str]]:
    with open(ROOT / "matching/reference/nav_job_titles.csv", encoding="utf-8") as fh:
        titles = sorted({r["title"] for r in csv.DictReader(fh)})
    picked = random.Random(seed).sample(titles, min(n_titles, len(titles)))
    return [[t[:i] for i in range(2, len(t) + 1)] for t in picked]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def _typist(client: httpx.AsyncClient, people: list[list[str]], out: list[float]) -> None:
    for prefixes in people:
        for q in prefixes:
            t0 = time.perf_counter()
            r = await client.get("/v1/taxonomy/occupations", params={"q": q, "limit": 10})
            out.append(time.perf_counter() - t0)
            r.raise_for_status()


async def _run(url: str, token: str, people: list[list[str]], concurrency: int) -> list[float]:
    out: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        (await client.get("/v1/taxonomy/occupations", params={"q": "lager"})).raise_for_status()  # warm-up
        groups = [people[i::concurrency] for i in range(concurrency)]
        await asyncio.gather(*(_typist(client, g, out) for g in groups))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--titles", type=int, default=300, help="titles typed, every prefix of each")
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        secret = "t" * 48
        port = _free_port()
        env = {
            **os.environ,
            "MATCHING_DATABASE_URL": f"sqlite:///{tmp}/typeahead.db",
            "MATCHING_SECRET_KEY": secret,
            "MATCHING_RATE_LIMIT_ENABLED": "false",
            "MATCHING_SNAPSHOT_WARM": "false",
        }
        log = open(Path(tmp) / "server.log", "w")
        server = subprocess.Popen(
            [sys.executable, "-m", "matching.cli", "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            settings = Settings(database_url=env["MATCHING_DATABASE_URL"], secret_key=secret)
            token = create_token("typeahead-bench", "adviser", ["nav-heimdal"], settings)
            people = _queries(args.titles, args.seed)
            t0 = time.perf_counter()
            lat = asyncio.run(_run(url, token, people, args.concurrency))
            wall = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    ms = [x * 1000 for x in lat]
    print(
        f"typeahead over HTTP: {len(ms):,} requests ({args.titles} titles typed, every prefix), "
        f"{args.concurrency} concurrent, {len(ms) / wall:,.0f} req/s"
    )
    print(f"  p50 {_pct(ms, 50):.1f} ms  p95 {_pct(ms, 95):.1f} ms  p99 {_pct(ms, 99):.1f} ms  max {max(ms):.1f} ms")


if __name__ == "__main__":
    main()
