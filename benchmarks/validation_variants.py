"""Model variants judged on the VALIDATION quarter of the training period (issue 13).

For one generated world: the pairs before the hold-out cutoff (the last 25 % by first
suggestion, which `matching train` reports and which is never read here) are the training
period; its last 25 % by time is the validation quarter. Every variant is fitted on the
earlier 75 % (plus sampled negatives around it, as `training.fit_on` does) and ranked the
way the engine ranks (`evaluation.full_ranking`: every eligible opening for each validation
participant and day). This is how a change to the model is chosen before any hold-out
figure is looked at; the hold-out figures come from `benchmarks/full_ranking.py`.

Variants (each a candidate named in issue 13 §2 / the session notes):

* ``main``: the model as trained today (the ALL criteria, 10 sampled negatives per pair).
* ``ipw``: inverse-propensity weighting. A propensity model of what advisers suggest
  (logistic regression on the one-hot levels of every criterion: suggested pairs against
  the sampled unsuggested eligible ones) gives each suggested pair the weight 1 / e(x)
  (stabilised: normalised to mean 1, clipped at its 99th percentile), so the outcome model
  learns P(interview | x) over what advisers could have suggested, not over what they did.
  With and without the sampled negatives.
* ``abs_distance``: kilometres as a second distance criterion (levels at 60, 45, 30, 20, 15,
  10, 5, 2 km), on top of the share-of-limit one.
* ``employer_kind``: whether the employer has invited NAV candidates for this kind of work
  (the opening's STYRK-08 sub-major group, two digits) before the pair's day: none / 1 /
  2 or more interviews (none is neutral: little history is never a penalty).
* ``freshness``: days since the opening was published (employers screen new listings first;
  advisers read them first): more than 60 (neutral), 31–60, 15–30, 8–14, at most 7.

    python benchmarks/validation_variants.py --participants 50000 --openings 10000 --seed 2013
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

from matching.criteria import ALL
from matching.criteria.base import Criterion, Levels
from matching.evaluation import baselines, full_ranking
from matching.features import evaluate
from matching.pairs import Pairs
from matching.scoring import ScoringModel, fit
from matching.store.db import make_engine
from matching.store.load import load_directory
from matching.training import (
    GRADE,
    NEGATIVE_SEED,
    TrainingSet,
    _before,
    _intercept_shift,
    choose_smooth,
    history,
    load_events,
    sampled_negative_pairs,
    time_cutoff,
    training_set,
)
from worldgen import generate_world

ABS_KM = Levels.from_thresholds("distance_km", [60, 45, 30, 20, 15, 10, 5, 2], "decreasing")
KIND = Levels.categories("employer_kind", 3)
FRESH = Levels.from_thresholds("freshness", [60, 30, 14, 7], "decreasing")


def _nothing(*_a: object) -> dict:
    return {}


def abs_distance() -> Criterion:
    return Criterion("distance_km", ABS_KM, lambda pairs: ABS_KM.bin(pairs.distance_km), _nothing, lambda *a: "")


def freshness(world) -> Criterion:
    """Days since the opening was published, on the pair's day: more than 60 (neutral), 31–60,
    15–30, 8–14, 7 or fewer."""
    pub = np.array([pd.Timestamp(d).toordinal() if pd.notna(d) else 0 for d in world.openings.frame["published_at"]], dtype=np.int64)
    return Criterion("freshness", FRESH, lambda pairs: FRESH.bin(pairs.as_of - pub[pairs.o]), _nothing, lambda *a: "")


def freshness_where(world, with_deadline: bool) -> Criterion:
    """`freshness` for openings with (or without) a deadline only; the others at the neutral level.
    Tells a real effect of a listing's age from the evaluation's blind spot: an opening without
    a deadline counts as open until the snapshot (its closing day is not in the data), so an
    old one may be closed already on the day ranked, which no adviser could suggest."""
    fresh = freshness(world)
    has = world.openings.deadline_ord < 10**7
    name = "freshness_deadline" if with_deadline else "freshness_no_deadline"
    return Criterion(name, FRESH, lambda pairs: np.where(has[pairs.o] == with_deadline, fresh.level(pairs), 0), _nothing, lambda *a: "")


def employer_kind(world_events: pd.DataFrame, world) -> Criterion:
    """Interviews (or better) of earlier pairs at the same employer for an opening in the same
    STYRK-08 sub-major group, strictly before the pair's day, counted once per pair."""
    of = world.openings.frame
    key_of_opening = pd.factorize(of["orgnr"].astype(str) + ":" + of["styrk08"].astype(str).str[:2])[0].astype(np.int64)
    ev = world_events[world_events["event"].isin(list(GRADE))]
    ev = ev[ev["opening_id"].isin(world.openings.index)]
    first = ev.groupby(["participant_id", "opening_id"])["occurred_at"].min().reset_index()
    day = np.array([d.toordinal() for d in pd.to_datetime(first["occurred_at"]).dt.date], dtype=np.int64)
    code = np.sort(key_of_opening[first["opening_id"].map(world.openings.index).to_numpy()] * 10**7 + day)

    def level(pairs: Pairs) -> np.ndarray:
        base = key_of_opening[pairs.o] * 10**7
        n = np.searchsorted(code, base + pairs.as_of, "left") - np.searchsorted(code, base, "left")
        return np.minimum(n, 2).astype(np.int64)

    return Criterion("employer_kind", KIND, level, _nothing, lambda *a: "")


def negatives(ts: TrainingSet, mask: np.ndarray, per_pair: int, events: pd.DataFrame) -> Pairs:
    """The pairs `training.sampled_negatives` samples (same seed, same order)."""
    return Pairs.concat(sampled_negative_pairs(ts, mask, per_pair, seed=NEGATIVE_SEED, events=events))


def propensity_weights(sug_levels: np.ndarray, neg_levels: np.ndarray, clip_q: float = 0.99) -> tuple[np.ndarray, dict]:
    """1 / e(x) for the suggested pairs, e from a logistic regression of suggested vs sampled
    unsuggested on one-hot levels; normalised to mean 1 and clipped at the `clip_q` quantile."""
    X = np.concatenate([sug_levels, neg_levels])
    y = np.r_[np.ones(len(sug_levels)), np.zeros(len(neg_levels))]
    enc = OneHotEncoder(handle_unknown="ignore").fit(X)
    lr = LogisticRegression(C=1.0, max_iter=500).fit(enc.transform(X), y)
    logit = lr.decision_function(enc.transform(sug_levels))
    w = np.exp(-(logit - logit.mean()))
    w = np.minimum(w, np.quantile(w, clip_q))
    w = w / w.mean()
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(y, lr.decision_function(enc.transform(X)))
    return w, {"propensity_auc": round(float(auc), 4), "weight_p50": round(float(np.median(w)), 3), "weight_max": round(float(w.max()), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scope", default="national")
    ap.add_argument("--participants", type=int, default=50_000)
    ap.add_argument("--openings", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=2013)
    ap.add_argument("--negatives", type=int, default=10)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--variants", default="", help="comma-separated substrings: only the variants named (and main)")
    args = ap.parse_args()
    c0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        generate_world(Path(tmp) / "data", seed=args.seed, n_participants=args.participants, n_openings=args.openings, scope=args.scope)
        engine = make_engine(f"sqlite:///{Path(tmp) / 'w.db'}")
        load_directory(engine, Path(tmp) / "data")
        with engine.connect() as conn:
            ts, events = training_set(conn), load_events(conn)
    print(
        f"{args.scope} {args.participants:,} × {args.openings:,}, seed {args.seed}: "
        f"{len(ts.y):,} suggested pairs ({time.process_time() - c0:.0f} CPU s)"
    )

    cutoff = time_cutoff(ts, 0.25)
    train_mask = ts.time.astype("datetime64[s]") <= cutoff
    val_cut = time_cutoff(ts, 0.25, train_mask)
    early = train_mask & (ts.time.astype("datetime64[s]") <= val_cut)
    end = ts.time[train_mask].max()
    smooth, _ = choose_smooth(ts, train_mask, 1.0)
    print(f"hold-out after {str(cutoff)[:10]} (not read); validation {str(val_cut)[:10]} … {str(end)[:10]}; smooth {smooth}")

    neg = negatives(ts, early, args.negatives, events)
    sug = ts.pairs.subset(early)
    extras: dict[str, Criterion] = {
        "abs_distance": abs_distance(),
        "employer_kind": employer_kind(_before(events, end), ts.world),
        "freshness": freshness(ts.world),
        "freshness_deadline": freshness_where(ts.world, True),
        "freshness_no_deadline": freshness_where(ts.world, False),
    }
    sug_lv, neg_lv = ts.levels[early], evaluate(neg, ALL).levels
    extra_sug = {k: c.level(sug).astype(np.uint8)[:, None] for k, c in extras.items()}
    extra_neg = {k: c.level(neg).astype(np.uint8)[:, None] for k, c in extras.items()}
    for k in extras:
        lv_k = extra_sug[k][:, 0]
        rate = [round(float(ts.y[early][lv_k == i].mean()), 3) if (lv_k == i).any() else None for i in range(extras[k].n_levels)]
        print(f"  {k}: levels of suggested pairs {np.bincount(extra_sug[k][:, 0])}, positives by level {rate}")
    w_ipw, ipw_info = propensity_weights(sug_lv, neg_lv)
    print(f"  propensity model: {ipw_info}")
    y_sug = ts.y[early]

    def fitted(names: tuple[str, ...], n_neg: bool, w_sug: np.ndarray | None) -> ScoringModel:
        crit = ALL + tuple(extras[k] for k in names)
        a = np.concatenate([sug_lv, *(extra_sug[k] for k in names)], axis=1)
        b = np.concatenate([neg_lv, *(extra_neg[k] for k in names)], axis=1)
        ws = np.ones(len(a)) if w_sug is None else w_sug
        if not n_neg:
            return fit(a, y_sug, crit, l2=1.0, smooth=smooth, sample_weight=ws)
        m = fit(
            np.concatenate([a, b]),
            np.r_[y_sug, np.zeros(len(b), int)],
            crit,
            l2=1.0,
            smooth=smooth,
            sample_weight=np.r_[ws, np.ones(len(b))],
        )
        m.intercept += _intercept_shift(m.raw(a), y_sug)
        return m

    def scorer(model: ScoringModel, names: tuple[str, ...]) -> Callable[[Pairs, np.ndarray], np.ndarray]:
        def score(pairs: Pairs, levels: np.ndarray) -> np.ndarray:
            extra = [extras[k].level(pairs).astype(np.uint8)[:, None] for k in names]
            return model.score(np.concatenate([levels, *extra], axis=1))

        return score

    variants: dict[str, tuple[tuple[str, ...], bool, np.ndarray | None]] = {
        f"main ({args.negatives} negatives)": ((), True, None),
        "ipw, no negatives": ((), False, w_ipw),
        "ipw + negatives": ((), True, w_ipw),
        "+ abs_distance": (("abs_distance",), True, None),
        "+ employer_kind": (("employer_kind",), True, None),
        "+ abs_distance + employer_kind": (("abs_distance", "employer_kind"), True, None),
        "+ freshness": (("freshness",), True, None),
        "+ abs_distance + freshness": (("abs_distance", "freshness"), True, None),
        "+ freshness, openings with a deadline only": (("freshness_deadline",), True, None),
        "+ freshness, openings without a deadline only": (("freshness_no_deadline",), True, None),
    }
    if args.variants:
        keep = [v.strip() for v in args.variants.split(",")]
        variants = {k: v for i, (k, v) in enumerate(variants.items()) if i == 0 or any(w in k for w in keep)}
    scorers = dict(baselines(ts.world))
    weights = {}
    for name, (names, n_neg, w) in variants.items():
        m = fitted(names, n_neg, w)
        scorers[name] = scorer(m, names)
        weights[name] = {
            c: round(float(m.level_weights[i][-1] - m.level_weights[i][0]), 3)
            for i, c in enumerate(m.criteria)
            if c in ("office", "distance", *names)
        }
    rep = full_ranking(ts.world, history(ts, train_mask), val_cut, scorers, until=end, events=_before(events, end))
    boot = rep.bootstrap(n=args.resamples, seed=0)
    base = f"main ({args.negatives} negatives)"
    print(f"\nvalidation quarter: {len(rep.participants)} participants")
    print("| variant | recall@10 | NDCG@10 | MRR | recall@10 − main (paired) | span of learned weights |\n|---|---|---|---|---|---|")
    from matching.evaluation import paired_difference

    for name in scorers:
        cells = boot[name]
        d = paired_difference(rep.per_participant[name]["recall@10"], rep.per_participant[base]["recall@10"], n=args.resamples)
        diff = "" if name == base or name.startswith("baseline") else f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"
        print(
            f"| {name} | {cells['recall@10']['mean']:.3f} | {cells['ndcg@10']['mean']:.3f} | {cells['mrr']['mean']:.3f} "
            f"| {diff} | {weights.get(name, '')} |"
        )
    print(f"\n{time.process_time() - c0:.0f} CPU s")


if __name__ == "__main__":
    main()
