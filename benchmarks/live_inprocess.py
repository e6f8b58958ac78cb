"""The fresh (live) scoring paths in-process, without HTTP: CPU ms per call, p50 / p99.

    .venv/bin/python benchmarks/live_inprocess.py --db FILE [--n 300] [--limit 10] [--seed 1]
        [--profile p2o|o2p|post] [--profile-out FILE]

Builds the snapshot (World, its employer view and their blocking indexes) once from a loaded
database (`matching.runtime`, as the API does), then times, for --n random participants and
--n random open openings:

- `engine`: the engine call alone — `MatchEngine.recommend` (participant → openings),
  `MatchEngine.candidates` (opening → participants, on the employer view), and for a posted
  profile `serving.profile_matches`' engine part (a one-participant World sharing the
  snapshot's openings and their tree);
- `serving`: `matching.serving.participant_matches(fresh=True)`, `opening_candidates(fresh=True)`
  and `profile_matches` (the SQL they run included: serving pointer, previous run's list,
  data version), plus rendering the reasons as the API does (`api.views.with_reasons`);
- `post`: `POST /v1/match`'s body path without HTTP: `normalise.participant` of the posted
  profile (a stored participant's profile, a different one per call, with its desired titles
  and no codes so the title normaliser runs), then `serving.profile_matches` and the reasons;
  then the same bodies again (titles recur in practice: the title memo now holds them), and
  the normalisation alone.

CPU time (`time.process_time`) per call, so the figures say what a request costs, not how
busy the shared box was. `--profile KIND` runs cProfile over the calls of one kind and prints
the top functions by cumulative time. Never writes to the database (reads only; give a copy).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import random
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worldgen import REFERENCE_DATE  # noqa: E402

TODAY = REFERENCE_DATE + dt.timedelta(days=1)
PROFILE_COLUMNS = (
    "postal_code",
    "max_commute_km",
    "desired_titles",
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
    "available_from",
)


def profiles(db_path: Path, n: int, seed: int) -> list[dict]:
    """n stored participants' profiles as a client would post them (desired titles, no codes)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            f"SELECT {', '.join(PROFILE_COLUMNS)} FROM participants WHERE rowid % 997 = ? LIMIT ?", (seed % 997, n)
        ).fetchall()
    out = []
    for row in rows:
        p = dict(zip(PROFILE_COLUMNS, row))
        for c in ("desired_titles", "skills", "experience", "driving_licences", "adaptation_needs", "preferred_industries"):
            p[c] = json.loads(p[c]) if isinstance(p[c], str) else p[c]
        p["wants_part_time"] = bool(p["wants_part_time"])
        p["shares_needs_with_employers"] = bool(p["shares_needs_with_employers"])
        p["desired_styrk08"] = []
        out.append(p)
    return out


def stats(ms: list[float]) -> str:
    a = np.asarray(ms)
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return f"n={len(a):4d}  p50 {p50:7.2f}  p90 {p90:7.2f}  p99 {p99:7.2f}  max {a.max():7.2f} ms CPU"


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        start = time.process_time()
        fn(item)
        out.append((time.process_time() - start) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, required=True, help="a loaded (and refreshed) SQLite database; only read")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", choices=("p2o", "o2p", "post"), help="cProfile the calls of this kind")
    ap.add_argument("--profile-out", type=Path, help="also dump the cProfile stats here")
    ap.add_argument("--only", choices=("p2o", "o2p", "post"), action="append", help="measure only these kinds")
    args = ap.parse_args()

    os.environ["MATCHING_DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ["MATCHING_TODAY"] = TODAY.isoformat()
    os.environ.setdefault("MATCHING_SNAPSHOT_WARM", "false")
    from api import views
    from api.schemas import ParticipantProfile
    from matching import normalise, runtime, serving
    from matching.config import get_settings

    settings = get_settings()
    only = set(args.only or ("p2o", "o2p", "post"))
    wall, cpu = time.perf_counter(), time.process_time()
    engine = serving.live_engine(settings)
    engine.employer  # noqa: B018 - the employer view's engine, as the first request builds it
    print(
        f"snapshot built: {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU; "
        f"{len(engine.world.participants)} participants, {len(engine.world.openings)} openings, "
        f"{int(engine.world.openings.is_open.sum())} open; model {engine.model.version}; load average {os.getloadavg()}"
    )
    rng = random.Random(args.seed)
    w = engine.world
    people = rng.sample(range(len(w.participants)), args.n)
    open_rows = np.flatnonzero(w.openings.is_open & (w.openings.deadline_ord >= TODAY.toordinal())).tolist()
    jobs = rng.sample(open_rows, min(args.n, len(open_rows)))
    posted = profiles(args.db, args.n, args.seed)
    bodies = [ParticipantProfile.model_validate(p).profile() for p in posted]

    def p2o_engine(i):
        return engine.recommend(np.array([i]), "any", k=args.limit)

    def o2p_engine(j):
        return engine.candidates(np.array([j]), k=args.limit)

    conn = runtime.db(settings).connect()

    def p2o_serving(i):
        out = serving.participant_matches(conn, settings, str(w.participants.ids[i]), kind="any", limit=args.limit, fresh=True)
        return views.with_reasons(out["matches"], "nb", adviser=True)

    def o2p_serving(j):
        out = serving.opening_candidates(conn, settings, str(w.openings.ids[j]), limit=args.limit, fresh=True)
        return views.with_reasons(out["candidates"], "nb")

    def post(body):
        row = normalise.participant(body)
        row.update(participant_id="(posted profile)", office_id=None, registered_at=None)
        out = serving.profile_matches(conn, settings, row, kind="any", limit=args.limit)
        return views.with_reasons(out["matches"], "nb", adviser=True)

    # One warm-up call of each (first-use caches: title model, message catalogues).
    p2o_serving(people[0]), o2p_serving(jobs[0]), post(bodies[0])
    kinds = {
        "p2o": [("engine", p2o_engine, people), ("serving + reasons", p2o_serving, people)],
        "o2p": [("engine", o2p_engine, jobs), ("serving + reasons", o2p_serving, jobs)],
        "post": [
            ("normalise + serving + reasons", post, bodies),
            ("the same, titles seen before", post, bodies),  # the title memo (normalise.title_codes) holds them now
            ("normalise alone (titles seen)", normalise.participant, bodies),
        ],
    }
    names = {"p2o": "fresh participant → openings", "o2p": "fresh opening → participants", "post": "POST /v1/match body"}
    for kind, runs in kinds.items():
        if kind not in only:
            continue
        for label, fn, items in runs:
            if args.profile == kind:
                prof = cProfile.Profile(time.process_time)  # CPU time, not wall: waiting for a cold page is not work
                prof.enable()
                ms = timed(fn, items)
                prof.disable()
            else:
                ms = timed(fn, items)
            print(f"{names[kind]:32s} {label:30s} {stats(ms)}")
            if args.profile == kind:
                st = pstats.Stats(prof).sort_stats("cumulative")
                st.print_stats(40)
                st.sort_stats("tottime").print_stats(25)
                if args.profile_out:
                    st.dump_stats(str(args.profile_out))
    print(f"load average at the end: {os.getloadavg()}")
    conn.close()


if __name__ == "__main__":
    main()
