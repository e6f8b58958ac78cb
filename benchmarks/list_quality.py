"""How usable are the lists an adviser reads? Over every fixture participant (the engine's live
path, the same code the API and the batch rank with):

* tied entries — an entry whose score, as shown (``--decimals``, default 3), equals the one above
  it, as a share of all list entries (goal ≤ 5 %); ties at full float precision are counted too.
  Entries are what the API lists: openings at one employer alike on every criterion are one
  entry (`serving.similar_key`, `topk.similar`), and how many openings share an entry is printed;
* weak entries (`explain.is_weak`), as a share of all list entries;
* full-time seekers (``wants_part_time`` false) whose rank-1 opening offers under 30 h/week,
  among those with a list (goal ≤ 10 %), and how many of them had a full-time opening
  (≥ 30 h/week) anywhere in their list;
* participants with an availability date later than their rank-1 opening's start by more than
  four weeks.

    python benchmarks/list_quality.py [--data data/fixtures] [--model-dir models] [--limit 10]
                                      [--today 2026-11-16] [--top-k 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import numpy as np

from matching import explain, topk
from matching.engine import MatchEngine, Scored
from matching.scoring import ScoringModel
from matching.serving import similar_key
from matching.store.db import make_engine
from matching.store.load import load_directory
from matching.store.snapshot import load_world

ROOT = Path(__file__).resolve().parent.parent
PART_TIME_BELOW = 30.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "fixtures")
    ap.add_argument("--model-dir", type=Path, default=ROOT / "models")
    ap.add_argument("--model", default=None, help="model version (default: models/LATEST)")
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--decimals", type=int, default=3)
    ap.add_argument("--top-k", type=int, default=50, help="K, the length of a stored list (MATCHING_TOP_K)")
    ap.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 16))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'quality.db'}")
        load_directory(engine, args.data)
        with engine.connect() as conn:
            world = load_world(conn)
        engine.dispose()
    model = ScoringModel.load(args.model_dir, args.model)
    matcher = MatchEngine(world, model, args.today)
    # as the API: the best max(limit, K) openings, similar ones as one entry (serving._live_match_items)
    ranked = matcher.recommend(np.arange(len(world.participants)), "any", k=max(args.limit, args.top_k))

    frame = world.participants.frame
    o_frame = world.openings.frame.set_index("opening_id")
    lists: dict[int, list[Scored]] = {}
    grouped = 0
    for p_idx, items in ranked.items():
        keys = [
            similar_key(
                o_frame.at[s.opening_id, "orgnr"], o_frame.at[s.opening_id, "kind"], (f.level for f in s.explanation.features.values())
            )
            for s in items
        ]
        groups = topk.similar(keys)[: args.limit]
        lists[p_idx] = [items[g[0]] for g in groups]
        grouped += sum(len(g) - 1 for g in groups)
    hours = o_frame["hours_per_week"].astype(float)
    start = o_frame["start_date"]
    entries = tied_shown = tied_exact = weak = 0
    full_time = full_time_part_rank1 = full_time_part_rank1_fit_exists = late_rank1 = with_list = 0
    for p_idx, items in lists.items():
        if not items:
            continue
        with_list += 1
        entries += len(items)
        weak += sum(explain.is_weak(s.explanation) for s in items)
        shown = [round(s.score, args.decimals) for s in items]
        tied_shown += sum(a == b for a, b in zip(shown[1:], shown[:-1]))
        tied_exact += sum(a.score == b.score for a, b in zip(items[1:], items[:-1]))
        row = frame.iloc[p_idx]
        top = items[0].opening_id
        if not bool(row["wants_part_time"]):
            full_time += 1
            if hours[top] < PART_TIME_BELOW:
                full_time_part_rank1 += 1
                full_time_part_rank1_fit_exists += any(hours[s.opening_id] >= PART_TIME_BELOW for s in items)
        avail, begins = row["available_from"], start[top]
        if isinstance(avail, dt.date) and isinstance(begins, dt.date) and (avail - begins).days > 28:
            late_rank1 += 1
    print(f"model {model.version}; {len(frame)} participants, {with_list} with a list; top {args.limit}; today {args.today}")
    print(
        f"tied entries (score shown to {args.decimals} decimals equals the one above): "
        f"{tied_shown}/{entries} = {tied_shown / max(entries, 1):.1%}"
    )
    print(f"tied entries (exactly equal float scores): {tied_exact}/{entries} = {tied_exact / max(entries, 1):.1%}")
    print(f"similar openings sharing an entry with a listed one (same employer and kind, alike on every criterion): {grouped}")
    print(f"weak entries: {weak}/{entries} = {weak / max(entries, 1):.1%}")
    print(
        f"full-time seekers with rank 1 under {PART_TIME_BELOW:g} h/week: {full_time_part_rank1}/{full_time} = "
        f"{full_time_part_rank1 / max(full_time, 1):.1%} "
        f"({full_time_part_rank1_fit_exists} of them had an opening of ≥ {PART_TIME_BELOW:g} h in their list)"
    )
    print(f"rank 1 starting more than 4 weeks before the participant is available: {late_rank1}/{with_list}")


if __name__ == "__main__":
    main()
