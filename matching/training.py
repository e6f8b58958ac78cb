"""Train the scoring model on outcome history and measure it honestly.

A pair's label comes from how far it got after it was first suggested (interview or better
= positive; graded hired 3 > trial started 2 > interview 1 > nothing 0 for NDCG). Features
are computed as of the first suggestion's date. Metrics come from a time-based hold-out
(the most recent `holdout_frac` of pairs), next to a distance-only and a TF-IDF title
similarity baseline scored on the same pairs; the shipped model is then refitted on all
pairs with the same settings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import platform
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import log_loss, ndcg_score, roc_auc_score

from matching.criteria import ALL
from matching.features import evaluate
from matching.pairs import Pairs
from matching.scoring import ScoringModel, fit
from matching.store import Connection, outcomes
from matching.store.snapshot import load_world
from matching.world import World

log = logging.getLogger(__name__)

#: The first part of a model's version (the second is the training data's digest): the
#: estimator. "2": steps stated as their posterior means (`scoring.fit`, steps="mean");
#: "1": the penalised fit's modes, which left adjacent levels exactly equal.
MODEL_SERIES = "2"
GRADE = {"interview": 1, "trial_started": 2, "hired": 3}


@dataclass
class TrainingSet:
    world: World
    pairs: Pairs
    levels: np.ndarray
    grade: np.ndarray
    time: np.ndarray  # datetime64 of the first suggestion
    participant: np.ndarray

    @property
    def y(self) -> np.ndarray:
        return (self.grade > 0).astype(int)


def outcome_pairs(conn: Connection) -> pd.DataFrame:
    ev = pd.DataFrame(outcomes.events(conn), columns=list(outcomes.EVENT_COLUMNS))
    if ev.empty:
        return pd.DataFrame(columns=["participant_id", "opening_id", "first_at", "grade"])
    ev["grade"] = ev["event"].map(GRADE).fillna(0).astype(int)
    return (
        ev.groupby(["participant_id", "opening_id"], sort=True).agg(first_at=("occurred_at", "min"), grade=("grade", "max")).reset_index()
    )


def training_set(conn: Connection) -> TrainingSet:
    world = load_world(conn)
    op = outcome_pairs(conn)
    pi, oi = world.participants.index, world.openings.index
    op = op[op["participant_id"].isin(pi) & op["opening_id"].isin(oi)].sort_values(["first_at", "participant_id", "opening_id"])
    if len(op) < 50 or op["grade"].gt(0).sum() < 5 or op["grade"].eq(0).sum() < 5:
        raise ValueError(f"not enough outcome history to train on ({len(op)} suggested pairs)")
    first = pd.to_datetime(op["first_at"])
    as_of = np.array([d.toordinal() for d in first.dt.date])
    pairs = Pairs.build(world, op["participant_id"].map(pi).to_numpy(), op["opening_id"].map(oi).to_numpy(), as_of)
    fs = evaluate(pairs, ALL)
    return TrainingSet(world, pairs, fs.levels, op["grade"].to_numpy(), first.to_numpy(), op["participant_id"].to_numpy())


def _ndcg_at(grade: np.ndarray, score: np.ndarray, groups: np.ndarray, k: int = 10) -> tuple[float, int]:
    """Mean NDCG@k over participants with ≥ 2 held-out pairs and at least one positive."""
    values = []
    for g in np.unique(groups):
        m = groups == g
        if m.sum() >= 2 and grade[m].max() > 0:
            values.append(ndcg_score(grade[m][None, :], score[m][None, :], k=k))
    return (float(np.mean(values)) if values else float("nan")), len(values)


def _tfidf_similarity(ts: TrainingSet) -> np.ndarray:
    pf, of = ts.world.participants.frame, ts.world.openings.frame
    p_text = pf["desired_titles"].map(lambda xs: " ".join(xs or [])).to_numpy()[ts.pairs.p]
    o_text = of["title"].to_numpy()[ts.pairs.o]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=True).fit(np.r_[p_text, o_text])
    a, b = vec.transform(p_text), vec.transform(o_text)
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


def _metrics(ts: TrainingSet, mask: np.ndarray, scores: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {"pairs": int(mask.sum()), "positives": int(ts.y[mask].sum())}
    for name, s in scores.items():
        auc = roc_auc_score(ts.y[mask], s[mask]) if len(set(ts.y[mask])) == 2 else float("nan")
        ndcg, n_groups = _ndcg_at(ts.grade[mask], s[mask], ts.participant[mask])
        out[name] = {"roc_auc": round(float(auc), 4), "ndcg@10": round(ndcg, 4)}
        out["ndcg_participants"] = n_groups
    return out


def data_hash(ts: TrainingSet) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(ts.levels, dtype=np.int64).tobytes())  # the digest predates uint8 levels
    h.update(np.ascontiguousarray(ts.grade).tobytes())
    h.update(np.ascontiguousarray(ts.time.astype("datetime64[s]").astype(np.int64)).tobytes())
    h.update("|".join(map(str, ts.world.participants.ids[ts.pairs.p])).encode())
    h.update("|".join(map(str, ts.world.openings.ids[ts.pairs.o])).encode())
    return h.hexdigest()


#: Smoothing strengths tried (`scoring.fit`), chosen on the training part's own validation.
SMOOTH_GRID = (0.0, 1.0, 10.0, 100.0, 1000.0)


def choose_smooth(
    ts: TrainingSet, train_mask: np.ndarray, l2: float, *, val_frac: float = 0.25, grid: tuple[float, ...] = SMOOTH_GRID
) -> tuple[float, dict[str, float]]:
    """The smoothing strength with the lowest log-loss on the last `val_frac` (by time) of the
    training pairs, fitted on the earlier ones: never on the hold-out the card reports."""
    seconds = ts.time.astype("datetime64[s]").astype(np.int64)
    cut = np.quantile(seconds[train_mask], 1 - val_frac)
    val = train_mask & (seconds > cut)
    early = train_mask & ~val
    losses = {}
    for s in grid:
        p = expit(fit(ts.levels[early], ts.y[early], ALL, l2=l2, smooth=s).raw(ts.levels[val]))
        losses[str(s)] = round(float(log_loss(ts.y[val], p, labels=[0, 1])), 5)
    best = min(grid, key=lambda s: (losses[str(s)], s))
    return best, losses


def train(conn: Connection, *, holdout_frac: float = 0.25, l2: float = 1.0, smooth: float | None = None) -> ScoringModel:
    """`smooth` None: chosen by `choose_smooth` on the training part (before the hold-out)."""
    ts = training_set(conn)
    cutoff = np.quantile(ts.time.astype("datetime64[s]").astype(np.int64), 1 - holdout_frac)
    test = ts.time.astype("datetime64[s]").astype(np.int64) > cutoff
    train_mask = ~test
    validation: dict[str, float] = {}
    if smooth is None:
        smooth, validation = choose_smooth(ts, train_mask, l2)

    held = fit(ts.levels[train_mask], ts.y[train_mask], ALL, l2=l2, smooth=smooth)
    distance = -ts.pairs.distance_km
    scores = {"model": held.raw(ts.levels), "baseline_distance": distance, "baseline_tfidf_title": _tfidf_similarity(ts)}
    metrics = {"holdout": _metrics(ts, test, scores), "train": _metrics(ts, train_mask, {"model": scores["model"]})}

    digest = data_hash(ts)
    final = fit(ts.levels, ts.y, ALL, l2=l2, smooth=smooth, version=f"{MODEL_SERIES}.{digest[:8]}")
    final.card.update(
        {
            "model": "additive logistic model over ordered criterion levels (non-negative thermometer steps)",
            "intended_use": "rank openings for a participant and participants for an opening, with reasons; "
            "decision support for advisers, never an automated decision",
            "training_data": {
                "source": "outcome events in the database (fixtures: data/fixtures/outcomes.csv, simulated)",
                "sha256": digest,
                "pairs": int(len(ts.y)),
                "positives": int(ts.y.sum()),
                "label": "pair reached interview, trial_started or hired after its first suggestion",
                "first_suggestion_from": str(ts.time.min())[:10],
                "first_suggestion_to": str(ts.time.max())[:10],
            },
            "evaluation": {
                "split": f"time-based: last {holdout_frac:.0%} of pairs by first suggestion (after "
                f"{str(np.datetime64(int(cutoff), 's'))[:10]}) held out; model refitted on all pairs to ship",
                **metrics,
            },
            "hyperparameters": {
                "l2": l2,
                "smooth": smooth,
                "holdout_frac": holdout_frac,
                **(
                    {
                        "smooth_chosen_by": "validation log-loss on the last 25% of the training pairs (fitted on the earlier 75%)",
                        "smooth_validation_log_loss": validation,
                    }
                    if validation
                    else {}
                ),
            },
            "features": [
                {
                    "name": c.name,
                    "description": c.description,
                    "direction": c.direction,
                    "levels": [c.level_label(i, "en") for i in range(c.n_levels)],
                    # no training pair at these levels: no weight learned (see scoring.fixed_steps)
                    "not_learned": [c.level_label(i, "en") for i in final.card["not_learned"].get(c.name, [])],
                }
                for c in ALL
            ],
            "libraries": _library_versions(),
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
    )
    return final


def _library_versions() -> dict[str, str]:
    import joblib
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
    }
