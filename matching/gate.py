"""The nightly promotion gate: serve a newly trained candidate only if it is no worse and no less fair.

`matching refresh --auto-promote` asks `judge` about the newest saved model (when it is newer
than the served one) before it computes the night's lists. The candidate is promoted — the
registry's audited pointer move — only if

(a) it is not worse than the served model on the per-participant ranking figure beyond noise:
    a paired bootstrap over participants (the same participants scored by both models) gives
    an interval for the mean difference candidate − served, and the candidate is refused when
    the whole interval lies below −`gate_tolerance`; and
(b) it does not widen the largest exposure gap of the fairness report (`matching.fairness`,
    both models' lists computed on the same snapshot and date) by more than
    `gate_exposure_margin`.

Otherwise the served model stays. Either way the verdict and its figures are stored on the
run (`runs.gate_*`, shown by `GET /v1/runs`) and logged; the candidate's fairness report goes
into its card (`fairness`).

The ranking figure is a pluggable function, `Figure`: model → one value per participant
(a pandas Series indexed by participant id). The default, `full_ranking_recall`, is the model
card's headline: per-participant recall@10 when every eligible opening is ranked
(`evaluation.full_ranking`) for the time hold-out's suggestions. `holdout_ndcg` (NDCG@10 over
the suggested pairs only) remains for comparison. A model refitted on all pairs has seen the
hold-out's outcomes — both models alike.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matching import fairness, registry
from matching.scoring import ScoringModel

log = logging.getLogger(__name__)

#: model → the ranking figure per participant (index: participant id). Higher is better.
Figure = Callable[[ScoringModel], pd.Series]


@dataclass
class Verdict:
    candidate: str
    served: str | None
    decision: str  # "promoted" | "refused"
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def promoted(self) -> bool:
        return self.decision == "promoted"


# ----------------------------------------------------------------------------- the ranking figure


def full_ranking_recall(conn, holdout_frac: float = 0.25, k: int = 10) -> Figure:
    """The gate's figure: each held-out participant's recall@k when every opening open on the
    day that passes the hard constraints is ranked (`evaluation.full_ranking`, the model
    card's headline), over the suggestions of the last `holdout_frac` of the history. Both
    models are scored on the same queries; like the card's figure it reads the outcomes the
    models were fitted on when they were trained on the whole history, both alike."""
    from matching.evaluation import full_ranking, model_scorer
    from matching.training import history, load_events, time_cutoff, training_set

    ts = training_set(conn)
    hist, cutoff, events = history(ts), time_cutoff(ts, holdout_frac), load_events(conn)
    metric = f"recall@{k}"

    def figure(model: ScoringModel) -> pd.Series:
        report = full_ranking(ts.world, hist, cutoff, {"model": model_scorer(model)}, k=k, events=events)
        return pd.Series(report.per_participant["model"][metric], index=report.participants, name=metric, dtype=float)

    figure.name = f"per-participant full-ranking {metric}, time hold-out"  # type: ignore[attr-defined]
    return figure


def holdout_ndcg(conn, holdout_frac: float = 0.25, k: int = 10) -> Figure:
    """The stand-in figure: each hold-out participant's NDCG@k over their suggested pairs
    first suggested in the last `holdout_frac` of the history (participants with at least two
    such pairs and one that reached an interview or better). Replace by the full-ranking
    evaluation's per-participant recall@10 / NDCG@10 when it is merged."""
    from sklearn.metrics import ndcg_score

    from matching.criteria import BY_NAME
    from matching.features import evaluate
    from matching.training import training_set

    ts = training_set(conn)
    seconds = ts.time.astype("datetime64[s]").astype(np.int64)
    test = seconds > np.quantile(seconds, 1 - holdout_frac)
    pairs = ts.pairs.subset(np.flatnonzero(test))
    grade, who = ts.grade[test], ts.participant[test]
    groups = [(pid, np.flatnonzero(who == pid)) for pid in np.unique(who)]
    groups = [(pid, rows) for pid, rows in groups if len(rows) >= 2 and grade[rows].max() > 0]

    def figure(model: ScoringModel) -> pd.Series:
        levels = evaluate(pairs, tuple(BY_NAME[c] for c in model.criteria)).levels
        raw = model.raw(levels)
        return pd.Series(
            {pid: float(ndcg_score(grade[rows][None, :], raw[rows][None, :], k=k)) for pid, rows in groups}, name=f"ndcg@{k}", dtype=float
        )

    return figure


def paired_bootstrap(served: pd.Series, candidate: pd.Series, *, samples: int = 2000, level: float = 0.95, seed: int = 0) -> dict[str, Any]:
    """Mean difference candidate − served over the participants both score, with a percentile
    bootstrap interval (participants resampled with replacement, the pairing kept)."""
    common = served.index.intersection(candidate.index)
    a, b = served[common].to_numpy(dtype=float), candidate[common].to_numpy(dtype=float)
    n = len(common)
    if n == 0:
        return {"participants": 0, "served": None, "candidate": None, "difference": None, "ci_low": None, "ci_high": None}
    d = b - a
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, n, size=(samples, n))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {
        "participants": int(n),
        "served": round(float(a.mean()), 4),
        "candidate": round(float(b.mean()), 4),
        "difference": round(float(d.mean()), 4),
        "ci_low": round(float(lo), 4),
        "ci_high": round(float(hi), 4),
        "level": level,
        "samples": samples,
    }


# ----------------------------------------------------------------------------- the verdict


def candidate(model_dir: Path) -> str | None:
    """The model the nightly gate judges: the newest saved one, if it is newer than the served
    one (None when there is nothing new)."""
    entries = registry.entries(model_dir)
    if not entries:
        return None
    newest = entries[-1]
    if newest.served:
        return None
    served = next((e for e in entries if e.served), None)
    return newest.version if served is None or (newest.created, newest.version) > (served.created, served.version) else None


def judge(
    conn,
    model_dir: Path,
    version: str,
    as_of: dt.date,
    *,
    figure: Figure | None = None,
    tolerance: float = 0.0,
    exposure_margin: float = 0.05,
    samples: int = 2000,
) -> Verdict:
    """Compare `version` with the served model (see the module docstring). Writes the
    candidate's fairness report into its card; moves no pointer."""
    from matching.store.snapshot import load_world

    served_version = registry.served(model_dir)
    cand = ScoringModel.load(model_dir, version)
    if served_version is None:
        return Verdict(version, None, "promoted", {"reasons": ["no model is served yet"]})
    served = ScoringModel.load(model_dir, served_version)

    try:
        figure = figure or full_ranking_recall(conn)
        ranking = paired_bootstrap(figure(served), figure(cand), samples=samples)
    except ValueError as exc:  # e.g. not enough outcome history: no evidence, no promotion
        ranking = {"participants": 0, "unavailable": str(exc)}
    ranking["figure"] = getattr(figure, "name", None) or "per-participant ranking figure"
    ranking["tolerance"] = tolerance
    unknown = not ranking.get("participants")
    worse = not unknown and ranking["ci_high"] < -tolerance

    world = load_world(conn)
    rep_served = fairness.model_report(conn, served, as_of, world=world)
    rep_cand = fairness.model_report(conn, cand, as_of, world=world)
    gap_served, gap_cand = fairness.largest_gap(rep_served), fairness.largest_gap(rep_cand)
    exposure = {
        "served_gap": round(gap_served, 4),
        "served_dimension": (rep_served["largest_exposure_gap"] or {}).get("dimension"),
        "candidate_gap": round(gap_cand, 4),
        "candidate_dimension": (rep_cand["largest_exposure_gap"] or {}).get("dimension"),
        "margin": exposure_margin,
    }
    unfair = gap_cand > gap_served + exposure_margin
    registry.annotate(model_dir, version, "fairness", fairness.card_summary(rep_cand))

    reasons = []
    if unknown:
        why = ranking.get("unavailable") or "no hold-out participant"
        reasons.append(f"no participant to compare the models on ({why}): not promoted without evidence")
    if worse:
        reasons.append(
            f"worse than the served model beyond noise: mean difference {ranking['difference']:+.4f}, "
            f"{ranking['level']:.0%} interval [{ranking['ci_low']:+.4f}, {ranking['ci_high']:+.4f}] below −{tolerance:g}"
        )
    if unfair:
        reasons.append(
            f"widens the largest exposure gap from {gap_served:.3f} ({exposure['served_dimension']}) to "
            f"{gap_cand:.3f} ({exposure['candidate_dimension']}), more than the margin {exposure_margin:g}"
        )
    decision = "refused" if reasons else "promoted"
    if not reasons:
        reasons.append("not worse beyond noise, and the largest exposure gap within the margin")
    verdict = Verdict(version, served_version, decision, {"ranking": ranking, "exposure": exposure, "reasons": reasons})
    log.log(
        logging.WARNING if decision == "refused" else logging.INFO,
        "promotion gate: %s %s: %s",
        decision,
        version,
        json.dumps(verdict.detail),
    )
    return verdict


def record(verdict: Verdict) -> dict[str, Any]:
    """The run's columns for a verdict (store.runs.start)."""
    return {
        "gate_candidate": verdict.candidate,
        "gate_decision": verdict.decision,
        "gate_detail": {"served": verdict.served, **verdict.detail},
    }
