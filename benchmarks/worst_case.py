"""Worst-case single requests against a real server: the largest bodies the API accepts.

Loads data/fixtures into a temporary SQLite database, serves the app with uvicorn on a free
port of 127.0.0.1 and sends, one at a time (a few repeats each, best and worst reported):

- POST /v1/match with every list at its largest allowed length and every string at its
  largest allowed length, trimmed so the body stays under MATCHING_MAX_BODY_BYTES;
- the same with only free-text skills (the costliest list: each is fuzzily normalised);
- one title at the largest allowed length;
- a body just over the byte limit (must be a fast 413).

The limits are read from `matching.schema.ParticipantProfile` (max_length on each field). Where
a field declares none, the value in ASSUMED is used, and the output says so. Exit status 1
if any request took longer than --budget seconds (default 2).

    .venv/bin/python benchmarks/worst_case.py [--repeat 3] [--budget 2]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from api.auth import create_token  # noqa: E402
from matching.config import Settings  # noqa: E402
from matching.schema import ParticipantProfile  # noqa: E402
from matching.store.db import make_engine  # noqa: E402
from matching.store.load import load_directory  # noqa: E402

#: Used where ParticipantProfile declares no bound (the data contract's owner sets the real ones).
ASSUMED = {
    "desired_titles": 10,
    "desired_styrk08": 10,
    "skills": 100,
    "experience": 30,
    "driving_licences": 15,
    "adaptation_needs": 30,
    "preferred_industries": 21,
    "title_length": 200,
    "skill_length": 200,
}


def bound(field: str, kind: str) -> tuple[int, bool]:
    """(max_length of the list or of its strings, declared?)"""
    info = ParticipantProfile.model_fields[field]
    if kind == "list":
        for m in info.metadata:
            if getattr(m, "max_length", None) is not None:
                return m.max_length, True
        return ASSUMED[field], False
    key = "title_length" if field == "desired_titles" else "skill_length"
    text = json.dumps(ParticipantProfile.model_json_schema()["properties"][field])
    if '"items"' in text and '"maxLength"' in text:
        return int(text.split('"maxLength": ')[-1].split(",")[0].split("}")[0]), True
    return ASSUMED[key], False


def fit(body: dict, limit: int) -> dict:
    """Drop list items (skills first) until the body is under `limit` bytes."""
    while len(json.dumps(body).encode()) > limit:
        key = max(("skills", "desired_titles"), key=lambda k: len(json.dumps(body[k])))
        body[key] = body[key][:-1]
    return body


def bodies(limit: int) -> tuple[dict[str, dict], list[str]]:
    notes = []
    n_titles, t_declared = bound("desired_titles", "list")
    n_skills, s_declared = bound("skills", "list")
    title_len, tl_declared = bound("desired_titles", "text")
    skill_len, sl_declared = bound("skills", "text")
    for name, value, declared in (
        ("desired_titles items", n_titles, t_declared),
        ("skills items", n_skills, s_declared),
        ("title length", title_len, tl_declared),
        ("skill length", skill_len, sl_declared),
    ):
        notes.append(f"{name}: {value} ({'declared in matching/schema.py' if declared else 'ASSUMED, not declared'})")
    words = "truckfører lagermedarbeider butikk kasse renhold sykepleie barnehage sveis elektriker kokk".split()

    def text(i: int, n: int) -> str:
        out = f"{i} "
        while len(out) < n:
            out += words[(i + len(out)) % len(words)] + " "
        return out[:n].strip()

    base = {
        "postal_code": "7030",
        "max_commute_km": 300,
        "desired_styrk08": ["5223", "8332", "9112"],
        "goal": "either",
        "driving_licences": ["B", "C", "CE"],
        "adaptation_needs": ["ERGONOMI"],
        "preferred_industries": list("ABCDEFGHIJKLMNOPQRSTU"),
        "experience": [{"styrk08": "5223", "years": 2}, {"styrk08": "8332", "years": 3}],
    }
    everything = fit(
        base | {"desired_titles": [text(i, title_len) for i in range(n_titles)], "skills": [text(i, skill_len) for i in range(n_skills)]},
        limit,
    )
    short_skills = fit(
        base | {"desired_titles": ["Lagermedarbeider"], "skills": [f"ferdighet {i} {words[i % len(words)]}" for i in range(n_skills)]},
        limit,
    )
    one_title = base | {"desired_titles": [text(7, title_len)], "desired_styrk08": [], "skills": []}
    return {
        "largest lists and strings": everything,
        "many short free-text skills": short_skills,
        "one longest title (normalised)": one_title,
    }, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds one request may take")
    args = parser.parse_args()
    import uvicorn

    tmp = Path(tempfile.mkdtemp(prefix="worst-case-"))
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'db.sqlite'}",
        secret_key="w" * 48,
        environment="bench",
        rate_limit="100000/minute",
        rate_limit_live="100000/minute",
    )
    engine = make_engine(settings.database_url)
    load_directory(engine, ROOT / "data" / "fixtures")
    engine.dispose()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    headers = {"Authorization": "Bearer " + create_token("bench", "admin", [], settings)}
    cases, notes = bodies(settings.max_body_bytes)
    print(f"body limit: {settings.max_body_bytes} bytes")
    for note in notes:
        print("  " + note)
    worst = 0.0
    with httpx.Client(base_url=url, timeout=600) as http:
        http.post("/v1/match", json=cases["many short free-text skills"] | {"skills": []}, headers=headers)  # warm
        over = {"desired_titles": ["x" * (settings.max_body_bytes + 1)]}
        cases["over the byte limit"] = over
        for name, body in cases.items():
            raw = json.dumps(body).encode()
            times, status = [], None
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                res = http.post("/v1/match", content=raw, headers=headers | {"Content-Type": "application/json"})
                times.append(time.perf_counter() - t0)
                status = res.status_code
            lists = {k: len(v) for k, v in body.items() if isinstance(v, list) and k in ("desired_titles", "skills")}
            print(f"{name:32s} {len(raw):7d} B {lists}  HTTP {status}  best {min(times):.3f} s  worst {max(times):.3f} s")
            worst = max(worst, max(times))
    server.should_exit = True
    thread.join(10)
    ok = worst < args.budget
    print(f"slowest request: {worst:.3f} s ({'within' if ok else 'OVER'} the {args.budget} s budget)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
