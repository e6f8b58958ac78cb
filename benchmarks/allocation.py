"""Scarce places (issue 14): what the recommended-now lists gain on the behavioural simulation.

    python benchmarks/allocation.py --scope trondheim --seeds 1 2 3 --contact-caps off
    python benchmarks/allocation.py --scope national --participants 50000 --openings 10000 --seeds 1 --replays 1 --contact-caps off
    python benchmarks/allocation.py --scope trondheim --seeds 1 2 3 --refresh-every 0   # one run's lists all month
    python benchmarks/allocation.py --scope national --participants 50000 --openings 10000 --seeds 1 --solvers

Per seed: the generator builds a world (`worldgen.build_world`, the same draws as `matching
generate`; seed 0 would be the fixtures the shipped model was trained on, so use others), it is
loaded into a temporary SQLite and refreshed in this process (one core) with the shipped model
(models/LATEST); the run stores personal and recommended-now lists. Then a period of `--days`
is replayed twice with the generator's own behavioural model (`worldgen.outcomes.resolve`:
both sides' hidden utilities, the funnel, capacity resolved in time order, places already
taken at the start counted): each participant meets the adviser on one random day of the
period (the same day in both arms), who suggests the first `--follow` openings of (a) the
personal list, (b) the recommended-now list current that day.

The lists are refreshed every `--refresh-every` days (default 7, weekly; 1 = nightly, as the
product): the period is resolved in segments — refresh (this arm's own copy of the database,
today = the segment's first day, the outcome history so far loaded, so the refresh sees the
places taken so far and the history's start rate and responsiveness) → advisers suggest from
the new lists → outcomes up to the next refresh → … The behavioural model's random numbers
are keyed per participant and per pair (`worldgen.outcomes.Draws.keyed`), so resolving in
segments never reshuffles what already happened, and both arms share each pair's randomness
(common random numbers). `--refresh-every 0` is session 20's replay: one run's lists for the
whole period (`--draws sequential`: with its one sequential random stream).
Each arm is replayed `--replays` times (meeting days and draws keyed by 1000 × seed + replay,
the same in both arms). Chains run to their end (`--days` + 120 days) so every start of a
suggestion made in the period is counted.

Printed per seed and as mean with a 95 % t-interval over seeds: starts (job hires + trial
starts) per month of suggestions; suggestions to full places (a job filled before it was
suggested or before the hire, a trial placement with no free place when it would start; and of
them, those whose place was already full at the first run's date, and those already full at the
refresh the suggestion's list came from); the mean individual NDCG@10 loss of the
recommended-now list against the personal list of the same run (the run each participant's
suggestions came from; gains: the model's probabilities; 0 = the same list — an opening the
list holds back for want of room counts as lost gain, though no one can start there now), and
beside it, not the goal's metric, the same loss with places full at the refresh worth 0 in both
lists; how many participants met got fewer than `--follow` suggestions, or none (a
recommended-now list left short or empty by openings with no room now); the congestion
figures before and after (of the first run); the refresh's CPU time and the allocation's share of it. `--solvers` also times OR-Tools'
min-cost flow against scipy's HiGHS `milp` on the same shards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching import allocation  # noqa: E402
from matching.batch import refresh  # noqa: E402
from matching.config import Settings  # noqa: E402
from matching.store import lists, outcomes  # noqa: E402
from matching.store import tables as t  # noqa: E402
from matching.store.db import make_engine  # noqa: E402
from matching.store.load import load_directory  # noqa: E402
from worldgen import REFERENCE_DATE, build_world, write_outcomes, write_world  # noqa: E402
from worldgen.outcomes import Draws, resolve  # noqa: E402

MONTH = 30.44


def _ndcg_loss(personal: list[tuple[str, float]], recommended: list[str]) -> float:
    """1 − DCG@10 of the recommended-now list / DCG@10 of the personal list (gains: scores)."""
    gain = dict(personal)
    disc = 1.0 / np.log2(np.arange(2, 12))
    ideal = float(np.dot([s for _, s in personal[:10]], disc[: min(10, len(personal))]))
    if ideal <= 0:
        return 0.0
    got = float(np.dot([gain[o] for o in recommended[:10]], disc[: min(10, len(recommended))]))
    return 1.0 - got / ideal


def _pairs(follow_lists: dict[int, list[int]], follow: int, who=None) -> tuple[np.ndarray, np.ndarray]:
    """(participant rows, opening rows): the first `follow` entries of each list (of `who` only, if given)."""
    pp, po = [], []
    for p, items in sorted(follow_lists.items()):
        if who is None or who[p]:
            for o in items[:follow]:
                pp.append(p)
                po.append(o)
    return np.array(pp, dtype=np.int64), np.array(po, dtype=np.int64)


def _meeting_days(w, days: int, seed: int) -> np.ndarray:
    """One day per participant (the adviser's meeting), drawn the same way in both arms."""
    return w.span + 1 + np.random.default_rng(seed).integers(0, days, len(w.participants))


def _counts(out: dict[str, np.ndarray], days: int, full_at_run: np.ndarray, full_at_list: np.ndarray) -> dict[str, float]:
    """What both replays count of the resolved suggestions (`resolve`'s per-pair `out`): starts,
    and the suggestions that met a full place, of them those full at the first run's date and
    those full at the refresh their list came from."""
    starts = int((out["start_day"] >= 0).sum())
    return {
        "suggestions": len(out["full"]),
        "starts": starts,
        "starts_per_month": starts / (days / MONTH),
        "full": int(out["full"].sum()),
        "full_at_run": int((out["full"] & full_at_run).sum()),
        "full_at_list": int((out["full"] & full_at_list).sum()),
    }


def _replay(w, follow_lists: dict[int, list[int]], taken: np.ndarray, days: int, follow: int, seed: int, keyed: bool) -> dict[str, float]:
    """The single-run replay (`--refresh-every 0`, session 20's): one run's lists for the whole period.
    `keyed`: the behavioural model's draws keyed per pair (`worldgen.outcomes.Draws`) instead of one
    sequential stream after the meeting days (session 20)."""
    rng = np.random.default_rng(seed)
    pair_p, pair_o = _pairs(follow_lists, follow)
    day_of = w.span + 1 + rng.integers(0, days, len(w.participants))
    s_day = day_of[pair_p]
    order = np.lexsort((s_day, pair_o, pair_p))
    horizon = w.span + days + 120
    draws = Draws.keyed(seed) if keyed else rng
    _, _, out = resolve(
        draws, w.participants, w.openings, w.employers, w.region, horizon, w.start, pair_p[order], pair_o[order], s_day[order], taken
    )
    # where the full ones come from: places already full when the lists were made, or filled during the period
    full0 = (taken >= w.openings["positions"].to_numpy())[pair_o[order]]
    return _counts(out, days, full0, full0)


def _copy_db(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite database (the backup API, WAL or not)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


def _run_lists(engine, run_id: str, p_row: dict, o_row: dict) -> tuple[dict, dict]:
    """A run's personal lists ({participant row: [(opening row, score)]}) and recommended-now lists."""
    with engine.connect() as conn:
        personal = lists.run_lists(conn, run_id)
        r = t.recommended_lists
        rec = {
            p: json.loads(o)
            for p, o in conn.execute(r.select().with_only_columns(r.c.participant_id, r.c.opening_ids).where(r.c.run_id == run_id))
        }
    per = {p_row[p]: [(o_row[o], s) for _, o, s in items] for p, items in personal.items() if items}
    return per, {p_row[p]: [o_row[o] for o in oids] for p, oids in rec.items() if oids}


def _taken(engine, as_of: dt.date, o_row: dict, n_o: int) -> np.ndarray:
    with engine.connect() as conn:
        taken_ids = outcomes.taken_places(conn, as_of)
    taken = np.zeros(n_o, dtype=int)
    for o, n in taken_ids.items():
        taken[o_row[o]] = n
    return taken


def _segmented(w, ctx: dict, arm: str, settings, first: tuple, days: int, every: int, follow: int, seed: int) -> dict[str, float]:
    """The replay with refreshed lists: the period in segments of `every` days. Each segment
    starts with a refresh as the nightly batch would make it (today = the segment's first day;
    the outcome history so far, so places taken so far, loaded into this arm's own copy of the
    database); advisers meeting a participant that segment suggest the first `follow` entries
    of the `arm`'s list ("personal" or "recommended") of that refresh; the outcomes up to the
    next refresh are resolved with the behavioural model's draws keyed per pair
    (`worldgen.outcomes.Draws`), so both arms share each pair's randomness and the earlier
    segments' outcomes stay as they were. The first segment uses the run `first` (shared by
    both arms). Returns the counts and, per participant, the NDCG@10 loss of the
    recommended-now list of the run its suggestions came from."""
    draws = Draws.keyed(seed)
    day_of = _meeting_days(w, days, seed)
    t0 = w.span + 1
    bounds = list(range(t0, t0 + days, every)) + [t0 + days]
    tmp, p_row, o_row = ctx["tmp"], ctx["p_row"], ctx["o_row"]
    db = tmp / f"{arm}-{seed}.sqlite"
    _copy_db(ctx["db"], db)
    engine = make_engine(f"sqlite:///{db}")
    positions = w.openings["positions"].to_numpy()
    pair_p = np.zeros(0, dtype=np.int64)
    pair_o = np.zeros(0, dtype=np.int64)
    s_day = np.zeros(0, dtype=np.int64)
    full_list = np.zeros(0, dtype=bool)  # the place was already full at the refresh its list came from
    list_day = np.zeros(0, dtype=np.int64)  # the day of the refresh the suggestion's list came from
    losses: dict[int, float] = {}
    losses_room: dict[int, float] = {}  # the same with places full at the list's refresh worth 0 in both lists
    short = empty = met = 0  # participants met; of them with fewer than `follow` suggestions, and with none
    refresh_cpu = 0.0
    try:
        for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            if k == 0:
                personal, rec, taken = first
            else:
                # the outcomes of the pairs so far up to the night before `lo`, into the history
                events, _, _ = resolve(
                    draws, w.participants, w.openings, w.employers, w.region, lo - 1, w.start, pair_p, pair_o, s_day, ctx["taken0"]
                )
                when = pd.to_datetime(events["occurred_at"])
                new = events[(when >= pd.Timestamp(w.start + dt.timedelta(days=bounds[k - 1]))).to_numpy()]
                today = w.start + dt.timedelta(days=lo)
                if len(new):
                    out_dir = tmp / f"events-{arm}-{seed}-{k}"
                    write_outcomes(new, out_dir)
                    load_directory(engine, out_dir, today=today)
                c0 = time.process_time()
                summary = refresh(settings.model_copy(update={"today": today}), db=engine, n_jobs=1, contacts_left=ctx["no_caps"])
                refresh_cpu += time.process_time() - c0
                personal, rec = _run_lists(engine, summary.run_id, p_row, o_row)
                taken = _taken(engine, today, o_row, len(positions))
            meets = (day_of >= lo) & (day_of < hi)
            follow_lists = rec if arm == "recommended" else {p: [o for o, _ in items] for p, items in personal.items()}
            pp, po = _pairs(follow_lists, follow, meets)
            got = np.bincount(pp, minlength=len(day_of))[meets]
            met, short, empty = met + int(meets.sum()), short + int((got < follow).sum()), empty + int((got == 0).sum())
            pair_p, pair_o = np.concatenate([pair_p, pp]), np.concatenate([pair_o, po])
            s_day = np.concatenate([s_day, day_of[pp]])
            full_list = np.concatenate([full_list, (taken >= positions)[po]])
            list_day = np.concatenate([list_day, np.full(len(pp), lo)])
            if arm == "recommended":
                full_now = taken >= positions
                for p in np.flatnonzero(meets):
                    if p in personal:
                        losses[int(p)] = _ndcg_loss([(o, sc) for o, sc in personal[p]], rec.get(int(p), []))
                        losses_room[int(p)] = _ndcg_loss([(o, 0.0 if full_now[o] else sc) for o, sc in personal[p]], rec.get(int(p), []))
    finally:
        engine.dispose()
        db.unlink()
    horizon = w.span + days + 120
    _, _, out = resolve(draws, w.participants, w.openings, w.employers, w.region, horizon, w.start, pair_p, pair_o, s_day, ctx["taken0"])
    full0 = (ctx["taken0"] >= positions)[pair_o]
    # a start at the opening from a suggestion made before the refresh the list came from: a chain
    # in flight that night (suggested, not yet started), which free places did not count yet
    started = out["start_day"] >= 0
    first_s = np.full(len(positions), np.iinfo(np.int64).max)
    np.minimum.at(first_s, pair_o[started], s_day[started])
    in_flight = out["full"] & ~full_list & (first_s[pair_o] < list_day)
    return {
        **_counts(out, days, full0, full_list),
        "full_in_flight": int(in_flight.sum()),
        "met": met,
        "met_short": short,
        "met_empty": empty,
        "refreshes": len(bounds) - 2,
        "refresh_cpu_s": refresh_cpu,
        "ndcg10_loss": float(np.mean(list(losses.values()))) if losses else 0.0,
        "ndcg10_loss_room": float(np.mean(list(losses_room.values()))) if losses_room else 0.0,
    }


def _ci(values: list[float]) -> tuple[float, float]:
    from scipy import stats

    a = np.asarray(values, dtype=float)
    if len(a) < 2:
        return float(a.mean()), float("nan")
    return float(a.mean()), float(stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1) / np.sqrt(len(a)))


def _milp(task: allocation.ShardTask) -> np.ndarray:
    """The same shard as an LP in scipy's HiGHS (integral: the constraint matrix is TU)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    g = np.unique(task.group, return_inverse=True)[1]
    o = np.unique(task.other, return_inverse=True)[1]
    n = len(g)
    ou = np.unique(task.other)
    cons = [
        LinearConstraint(csr_matrix((np.ones(n), (g, np.arange(n)))), -np.inf, task.per_list),
        LinearConstraint(csr_matrix((np.ones(n), (o, np.arange(n)))), -np.inf, task.cap[ou]),
    ]
    res = milp(-np.rint(task.score * 1000), constraints=cons, integrality=np.ones(n), bounds=Bounds(0, 1))
    return res.x > 0.5


def _solvers(group, other, score, pos, shard, cap, per_list) -> dict[str, float]:
    tasks = allocation.shard_tasks(group, other, score, pos, shard, cap, per_list=per_list)
    out = {}
    totals = {}
    for name, fn in (("ortools_min_cost_flow", allocation.run_shard), ("scipy_highs_milp", _milp)):
        c0 = time.process_time()
        keep = np.zeros(len(group), dtype=bool)
        for idx, task in tasks:
            keep[idx] = fn(task)
        out[name + "_cpu_s"] = round(time.process_time() - c0, 3)
        totals[name] = round(float(np.rint(score[keep] * 1000).sum()), 0)
    out["same_total"] = len(set(totals.values())) == 1
    return out


def _config(config: str) -> tuple[float, int, str, int, float, int, str, int, float, float, str]:
    """ "c:L[:mode[:depth[:strength[:head[:tail[:passes[:full_strength[:hold_at[:hold_basis]]]]]]]]]" → (c, L, mode,
    depth, strength, head, tail, passes, full_strength, hold_at, hold_basis); mode "price" (default) or "flow"; tail
    "personal"|"priced", passes, the price's weight on openings with no free place, `alloc_hold_at` (an opening with at
    most this many places not spoken for is held back; negative: never, as before session 22) and `alloc_hold_basis`
    (not_spoken_for|free: what hold_at compares) default to the settings' defaults
    (session 19's figures were tail "priced", 1 pass, full_strength = strength)."""
    f = config.split(":")
    d = Settings.model_fields
    return (
        float(f[0]),
        int(f[1]),
        f[2] if len(f) > 2 else "price",
        int(f[3]) if len(f) > 3 else 50,
        float(f[4]) if len(f) > 4 else 1.0,
        int(f[5]) if len(f) > 5 else 3,
        f[6] if len(f) > 6 else str(d["alloc_tail"].default),
        int(f[7]) if len(f) > 7 else int(d["alloc_passes"].default),
        float(f[8]) if len(f) > 8 else float(d["alloc_full_strength"].default),
        float(f[9]) if len(f) > 9 else float(d["alloc_hold_at"].default),
        f[10] if len(f) > 10 else str(d["alloc_hold_basis"].default),
    )


def one_seed(args, seed: int) -> list[dict]:
    """One world; per configuration a refresh and the replays of both arms."""
    c0 = time.process_time()
    w = build_world(seed=seed, n_participants=args.participants, n_openings=args.openings, scope=args.scope)
    gen_cpu = time.process_time() - c0
    p_row = {p: i for i, p in enumerate(w.participants["participant_id"])}
    o_row = {o: i for i, o in enumerate(w.openings["opening_id"])}
    out = []
    personal_arm = None
    with tempfile.TemporaryDirectory(prefix="alloc-bench-") as tmp_name:
        tmp = Path(tmp_name)
        data, db = tmp / "data", tmp / "db.sqlite"
        write_world(w, data)
        today = REFERENCE_DATE + dt.timedelta(days=1)
        assert w.start + dt.timedelta(days=w.span + 1) == today
        base = Settings(
            database_url=f"sqlite:///{db}",
            today=today,
            model_dir=args.model_dir,
            top_k=args.top_k,
            environment="test",
            secret_key="x" * 40,
        )
        engine = make_engine(base.database_url)
        load_directory(engine, data, today=today)
        # --contact-caps off: every employer unlimited (the replay does not model contact caps)
        no_caps = None if args.contact_caps == "data" else np.full(w.openings["orgnr"].nunique(), np.inf)
        for config in args.configs:
            factor, per_list, mode, depth, strength, head, tail, passes, full_strength, hold_at, hold_basis = _config(config)
            settings = base.model_copy(
                update={
                    ("alloc_start_factor" if mode == "price" else "alloc_factor"): factor,
                    "recommend_now": per_list,
                    "alloc_mode": mode,
                    "alloc_depth": depth,
                    "alloc_strength": strength,
                    "alloc_head": head,
                    "alloc_tail": tail,
                    "alloc_passes": passes,
                    "alloc_full_strength": full_strength,
                    "alloc_hold_at": hold_at,
                    "alloc_hold_basis": hold_basis,
                }
            )
            c0 = time.process_time()
            summary = refresh(settings, db=engine, n_jobs=1, contacts_left=no_caps)
            refresh_cpu = time.process_time() - c0
            personal, rec = _run_lists(engine, summary.run_id, p_row, o_row)
            taken = _taken(engine, today, o_row, len(w.openings))
            if args.refresh_every == 0:  # session 20's replay: this run's lists for the whole period
                lists_b = rec
                if personal_arm is None:  # the personal lists are the same in every configuration
                    lists_a = {p: [o for o, _ in items] for p, items in personal.items()}
                    personal_arm = [
                        _replay(w, lists_a, taken, args.days, args.follow, 1000 * seed + rep, args.draws == "keyed")
                        for rep in range(args.replays)
                    ]
                rec_arm = [
                    _replay(w, lists_b, taken, args.days, args.follow, 1000 * seed + rep, args.draws == "keyed")
                    for rep in range(args.replays)
                ]
                losses = [_ndcg_loss(items, rec.get(p, [])) for p, items in personal.items()]
                loss = float(np.mean(losses)) if losses else 0.0
                loss_room = float("nan")
            else:
                ctx = {"tmp": tmp, "db": db, "p_row": p_row, "o_row": o_row, "no_caps": no_caps, "taken0": taken}
                engine.dispose()
                first = (personal, rec, taken)
                if personal_arm is None:  # the personal lists do not depend on the allocation's settings
                    personal_arm = [
                        _segmented(w, ctx, "personal", settings, first, args.days, args.refresh_every, args.follow, 1000 * seed + rep)
                        for rep in range(args.replays)
                    ]
                rec_arm = [
                    _segmented(w, ctx, "recommended", settings, first, args.days, args.refresh_every, args.follow, 1000 * seed + rep)
                    for rep in range(args.replays)
                ]
                loss = float(np.mean([r["ndcg10_loss"] for r in rec_arm]))
                loss_room = float(np.mean([r["ndcg10_loss_room"] for r in rec_arm]))
            mean = {
                a: {k: float(np.mean([x[k] for x in rs])) for k in rs[0]}
                for a, rs in (("personal", personal_arm), ("recommended", rec_arm))
            }
            res = {
                "seed": seed,
                "config": config,
                "refresh_every": args.refresh_every,
                "participants": len(w.participants),
                "openings": len(w.openings),
                "gen_cpu_s": round(gen_cpu, 1),
                "refresh_cpu_s": round(refresh_cpu, 2),
                "refresh_wall_s": round(summary.seconds, 2),
                "allocation_cpu_s": summary.extra["allocation_cpu_seconds"],
                "allocation_wall_s": summary.extra["allocation_seconds"],
                "arms": mean,
                "starts_gain": mean["recommended"]["starts"] / max(mean["personal"]["starts"], 1e-9) - 1,
                "full_change": mean["recommended"]["full"] / max(mean["personal"]["full"], 1e-9) - 1,
                "ndcg10_loss": loss,
                "ndcg10_loss_room": loss_room,
                "congestion": {k: {m: v for m, v in summary.extra["congestion"][k].items() if m != "offices"} for k in ("before", "after")},
            }
            if args.solvers and not out:
                allp = [(p, o, sc, i) for p, items in personal.items() for i, (o, sc) in enumerate(items)]
                group, other, score, pos = (np.array(x) for x in zip(*allp))
                shard = np.unique(w.participants["office_id"].to_numpy(), return_inverse=True)[1][group]
                free = allocation.free_places(w.openings["positions"].to_numpy(), taken)
                res["solvers"] = _solvers(group, other, score.astype(float), pos, shard, allocation.caps(free, factor), per_list)
            out.append(res)
        engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scope", default="trondheim", choices=["trondheim", "national"])
    ap.add_argument("--participants", type=int, default=180)
    ap.add_argument("--openings", type=int, default=420)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--days", type=int, default=30, help="the replayed period of suggestions")
    ap.add_argument("--follow", type=int, default=3, help="openings of the list an adviser suggests")
    ap.add_argument("--replays", type=int, default=5, help="replays per arm and seed (common random numbers)")
    ap.add_argument("--top-k", type=int, default=50)
    ap.add_argument("--model-dir", type=Path, default=ROOT / "models", help="the model registry whose served model refreshes")
    ap.add_argument(
        "--configs",
        nargs="+",
        default=["3:10"],
        help="c:L[:mode[:depth[:strength[:head[:tail[:passes[:full_strength[:hold_at[:hold_basis]]]]]]]]] — c (expected starts per free "
        "place for mode price, lists per free place for mode flow), list length L, mode price|flow, depth, price strength, "
        "head, tail personal|priced, passes, price strength on openings with no free place, hold_at (openings with at most "
        "this many places not spoken for are not recommended now; negative: never), hold_basis not_spoken_for|free",
    )
    ap.add_argument(
        "--contact-caps",
        choices=["data", "off"],
        default="data",
        help="employers' contact caps as the data says (the product's default) or off; the replay itself never holds "
        "advisers to them, so with 'data' the recommended arm loses pairs the personal arm may use",
    )
    ap.add_argument(
        "--refresh-every",
        type=int,
        default=7,
        help="days between refreshes within the period (1 nightly, 7 weekly, the default); 0: session 20's replay, one run's "
        "lists for the whole period",
    )
    ap.add_argument(
        "--draws",
        choices=["keyed", "sequential"],
        default="keyed",
        help="with --refresh-every 0: the behavioural model's draws keyed per pair, or one sequential stream (session 20)",
    )
    ap.add_argument("--solvers", action="store_true", help="also time OR-Tools against scipy milp on the same shards")
    ap.add_argument("--json", type=Path, help="write the per-seed figures here")
    args = ap.parse_args()
    results = []
    for seed in args.seeds:
        for r in one_seed(args, seed):
            results.append(r)
            a, b = r["arms"]["personal"], r["arms"]["recommended"]
            extra = r["allocation_cpu_s"] / max(r["refresh_cpu_s"] - r["allocation_cpu_s"], 1e-9)
            print(
                f"seed {seed} c:L {r['config']}: {r['participants']} × {r['openings']}; starts/month {a['starts_per_month']:.1f} → "
                f"{b['starts_per_month']:.1f} ({r['starts_gain']:+.1%}); suggestions to full places {a['full']:.1f} → {b['full']:.1f} "
                f"({r['full_change']:+.1%}) of {a['suggestions']:.0f} → {b['suggestions']:.0f} (full at the run date "
                f"{a['full_at_run']:.1f} → {b['full_at_run']:.1f}, full at the refresh its list came from {a['full_at_list']:.1f} → "
                f"{b['full_at_list']:.1f}, free at it but taken by a chain in flight at it {a.get('full_in_flight', 0):.1f} → "
                f"{b.get('full_in_flight', 0):.1f}; {r['arms']['recommended'].get('refreshes', 0):.0f} refreshes every "
                f"{r['refresh_every']} days); participants met {b.get('met', 0):.0f}, with fewer than {args.follow} suggestions "
                f"{a.get('met_short', 0):.1f} → {b.get('met_short', 0):.1f}, with none {a.get('met_empty', 0):.1f} → "
                f"{b.get('met_empty', 0):.1f}; NDCG@10 loss {r['ndcg10_loss']:.1%} (places full at the refresh worth 0: "
                f"{r['ndcg10_loss_room']:.1%}); "
                f"congested openings {r['congestion']['before']['share_openings_congested']:.1%} → "
                f"{r['congestion']['after']['share_openings_congested']:.1%}; refresh CPU {r['refresh_cpu_s']} s, "
                f"allocation CPU {r['allocation_cpu_s']} s ({extra:+.1%} of the rest)",
                flush=True,
            )
            if "solvers" in r:
                print(f"  solvers (CPU s, same shards): {r['solvers']}", flush=True)
    for config in args.configs:
        rs = [r for r in results if r["config"] == config]
        print(f"c:L {config}:")
        for key, label in (
            ("starts_gain", "starts"),
            ("full_change", "suggestions to full places"),
            ("ndcg10_loss", "NDCG@10 loss"),
            ("ndcg10_loss_room", "NDCG@10 loss, places full at the refresh worth 0 in both lists (not the goal's metric)"),
        ):
            m, h = _ci([r[key] for r in rs])
            print(f"  {label}: {m:+.1%} ± {h:.1%} (95 % t-interval over {len(rs)} seeds)")
        m, h = _ci([r["allocation_cpu_s"] / max(r["refresh_cpu_s"] - r["allocation_cpu_s"], 1e-9) for r in rs])
        print(f"  allocation CPU / rest of refresh CPU: {m:+.1%} ± {h:.1%}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
