"""Workbench page speed: server time p50/p95 of the caseload, participant and opening pages.

    .venv/bin/python benchmarks/pages.py [--db FILE] [--requests 40] [--participants N --openings M]

The app runs in-process (FastAPI's TestClient, no network), so the time is what the server
spends producing the page: scope checks, the audited route functions, the stored list read
and re-explained, templates. Without --db the fixtures are loaded into a temporary SQLite
file and refreshed once (a served run: stored lists, as at night); with --participants /
--openings a national world of that size is generated instead (`matching generate --scope
national`). Each page is requested for a different participant / opening in turn (the first
request per page, which builds the live snapshot, is a warm-up and not counted). Also prints
each page's weight (HTML bytes, without images; CSS and JS are separate files, counted once).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, help="an already loaded and refreshed SQLite database")
    ap.add_argument("--participants", type=int)
    ap.add_argument("--openings", type=int)
    ap.add_argument("--requests", type=int, default=40, help="timed requests per page")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    db = args.db or tmp / "pages.db"
    env = {
        **os.environ,
        "MATCHING_DATABASE_URL": f"sqlite:///{db}",
        "MATCHING_SECRET_KEY": "b" * 48,
        "MATCHING_RATE_LIMIT_ENABLED": "false",
        "MATCHING_ENVIRONMENT": "bench",
    }
    if args.db is None:
        data = ROOT / "data" / "fixtures"
        if args.participants:
            data = tmp / "data"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "matching.cli",
                    "generate",
                    str(data),
                    "--scope",
                    "national",
                    "--participants",
                    str(args.participants),
                    "--openings",
                    str(args.openings or 1000),
                    "--no-outcomes",
                ],
                check=True,
                env=env,
                cwd=ROOT,
            )
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "matching.cli", "load", str(data)], check=True, env=env, cwd=ROOT)
        subprocess.run([sys.executable, "-m", "matching.cli", "refresh", "--no-progress"], check=True, env=env, cwd=ROOT)
        print(f"load + refresh: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    os.environ.update(env)

    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from api.app import create_app
    from api.auth import create_token
    from matching.config import Settings
    from matching.store import lists
    from matching.store import tables as t
    from matching.store.db import make_engine

    settings = Settings()
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        served = lists.serving(conn)
        assert served is not None, "no published run: refresh first"
        people = conn.execute(
            select(t.participants.c.participant_id, t.participants.c.office_id, t.participants.c.adviser_id)
            .order_by(t.participants.c.participant_id)
            .limit(args.requests + 1)
        ).all()
        openings = conn.execute(
            select(t.opening_lists.c.opening_id, t.openings.c.office_id)
            .join(t.openings, t.openings.c.opening_id == t.opening_lists.c.opening_id)
            .where(t.opening_lists.c.run_id == served.run_id)
            .order_by(t.opening_lists.c.opening_id)
            .limit(args.requests + 1)
        ).all()
    client = TestClient(create_app(settings))

    def session(role: str, office: str, sub: str) -> dict[str, str]:
        return {"matching_session": create_token(sub, role, [office], settings)}

    pages = {
        "caseload": [("/caseload", session("adviser", o, a or "adviser")) for _, o, a in people],
        "participant": [(f"/participants/{p}", session("adviser", o, "adviser")) for p, o, _ in people],
        "opening": [(f"/openings/{oid}", session("liaison", o, "liaison")) for oid, o in openings],
    }
    print(f"{'page':<12} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'HTML kB':>8}")
    for name, requests in pages.items():
        times, sizes = [], []
        for k, (url, cookies) in enumerate(requests):
            client.cookies.clear()
            client.cookies.update(cookies)
            t0 = time.perf_counter()
            res = client.get(url)
            elapsed = time.perf_counter() - t0
            assert res.status_code == 200, (url, res.status_code, res.text[:300])
            if k:  # the first builds the snapshot
                times.append(elapsed * 1000)
                sizes.append(len(res.content))
        print(f"{name:<12} {len(times):>4} {_p(times, 50):>8.1f} {_p(times, 95):>8.1f} {max(times):>8.1f} {max(sizes) / 1024:>8.1f}")
    static = sum((ROOT / "api" / "web" / "static" / f).stat().st_size for f in ("app.css", "app.js"))
    print(f"CSS + JS (once per visit): {static / 1024:.1f} kB")


if __name__ == "__main__":
    main()
