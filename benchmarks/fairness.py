"""What the fairness report and the nightly promotion gate cost: CPU seconds of this process
(the box is shared; CPU time is steadier than wall time) for

* the served run's report (stored lists read back; needs a refresh first, done here and timed
  separately),
* one model's report on today's data (the model's lists computed with the batch's own code,
  one process),
* what the gate (`gate.judge`) computes: the stand-in ranking figure for both models, the
  paired bootstrap, and both models' reports.

    python benchmarks/fairness.py [--data data/fixtures | --db EXISTING.db] [--model-dir models]
                                  [--today 2026-11-16]

With ``--db`` an existing database is used as is (copy it first: the refresh writes a run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

from matching import fairness, gate
from matching.batch import refresh
from matching.config import Settings
from matching.scoring import ScoringModel
from matching.store.db import make_engine
from matching.store.load import load_directory
from matching.store.snapshot import load_world

ROOT = Path(__file__).resolve().parent.parent


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


class _Timer:
    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> _Timer:
        self.wall, self.cpu = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        print(f"{self.what:42s} CPU {_cpu() - self.cpu:8.1f} s   wall {time.perf_counter() - self.wall:8.1f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "fixtures")
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--model-dir", type=Path, default=ROOT / "models")
    ap.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 16))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "fair.db"
        settings = Settings(
            database_url=f"sqlite:///{db}", model_dir=args.model_dir, today=args.today, secret_key="b" * 48, environment="bench"
        )
        engine = make_engine(settings.database_url)
        if args.db is None:
            with _Timer("load"):
                load_directory(engine, args.data)
        with _Timer("refresh (one process, K = 50)"):
            refresh(settings, db=engine, n_jobs=1)  # in this process: its CPU time is counted
        model = ScoringModel.load(args.model_dir)
        with engine.connect() as conn:
            with _Timer("snapshot"):
                world = load_world(conn)
            print(f"{len(world.participants):,} participants × {len(world.openings):,} openings")
            with _Timer("report: served run (stored lists)"):
                rep = fairness.served_run_report(conn)
            with _Timer("report: a model on today's data"):
                fairness.model_report(conn, model, args.today, world=world)
            largest = rep["largest_exposure_gap"]
            print(f"largest exposure gap (served run): {largest}")
            # What gate.judge computes (judge itself also writes the candidate's card, so it is
            # not called on the repository's models here): the figure for both models, a paired
            # bootstrap and both models' reports.
            with _Timer("gate: figure ×2, bootstrap, two reports"):
                try:
                    figure = gate.holdout_ndcg(conn)
                    a, b = figure(model), figure(model)
                    gate.paired_bootstrap(a, b)
                except ValueError as exc:  # a world generated without outcomes
                    print(f"  (no ranking figure: {exc})")
                    a = None
                fairness.model_report(conn, model, args.today, world=world)
                fairness.model_report(conn, model, args.today, world=world)
            if a is not None:
                print(f"stand-in figure: {len(a)} hold-out participants, mean NDCG@10 {a.mean():.3f}")
        engine.dispose()


if __name__ == "__main__":
    main()
