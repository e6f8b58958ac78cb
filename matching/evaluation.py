"""Full-ranking evaluation: a model judged the way the engine is used.

The suggested-pair hold-out in :mod:`matching.training` ranks only the handful of openings an
adviser happened to suggest. Here, for every participant with a suggestion after the time
split, each day they were suggested something is one *query*: every opening open that day
that passes the hard constraints (the engine's one blocking, :mod:`matching.candidates`) is
scored and ordered by the one top-k (:func:`matching.topk.top_k`: score as shown, then the
opening's tie rank), and the openings first suggested that day that reached interview or
better are the relevant ones. Openings already suggested to the participant before that day
are left out (an adviser knows them). A relevant opening that blocking excludes counts as
missed: the engine would never have shown it.

"Open on a day": published on or before it, deadline (if any) not passed — the blocking
checks that — and, for a job, fewer hires recorded through NAV before that day than it has
positions. An opening closed or filled elsewhere without a deadline counts as open until the
snapshot (its closing day is not in the data).

Metrics per query (binary relevance, k = 10): recall@k = relevant in the top k / relevant;
NDCG@k = DCG of the relevant in the top k / the ideal DCG; MRR = 1 / rank of the first
relevant in the whole ordered list (0 if none is a candidate). A participant's figure is the
mean over their queries, and intervals come from a bootstrap over participants; every scorer
is resampled with the same draws, so two scorers (or two models: the promotion gate) compare
paired (:func:`paired_difference`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from matching import candidates, topk
from matching.criteria import ALL, BY_NAME
from matching.features import levels as criterion_levels
from matching.pairs import Pairs
from matching.scoring import ScoringModel
from matching.world import Openings, World

#: A scorer maps candidate pairs (and their levels under `ALL`) to a score; higher ranks first.
Scorer = Callable[[Pairs, np.ndarray], np.ndarray]

METRICS = ("recall@10", "ndcg@10", "mrr")


def metric_names(k: int) -> tuple[str, str, str]:
    return (f"recall@{k}", f"ndcg@{k}", "mrr")


ALL_NAMES = tuple(c.name for c in ALL)


# ---------------------------------------------------------------------------- scorers
def model_scorer(model: ScoringModel) -> Scorer:
    """The model's probability, as the engine ranks it (rounded to the shown decimals by the ranking)."""
    cols = [ALL_NAMES.index(c) if c in ALL_NAMES else -1 for c in model.criteria]

    def score(pairs: Pairs, levels: np.ndarray) -> np.ndarray:
        lv = np.empty((len(pairs), len(cols)), dtype=np.uint8)
        for j, (c, name) in enumerate(zip(cols, model.criteria)):
            lv[:, j] = levels[:, c] if c >= 0 else BY_NAME[name].level(pairs)
        return model.score(lv)

    return score


def distance_scorer() -> Scorer:
    """Nearest first."""
    return lambda pairs, levels: -pairs.distance_km


def occupation_scorer() -> Scorer:
    """The occupation proximity level alone (same unit group > close > near > related > far)."""
    j = ALL_NAMES.index("occupation")
    return lambda pairs, levels: levels[:, j].astype(float)


def _texts(values: pd.Series) -> np.ndarray:
    return np.array([" ".join(map(str, v)) if isinstance(v, list | tuple | np.ndarray) else ("" if v is None else str(v)) for v in values])


def tfidf_scorer(world: World) -> Scorer:
    """Text similarity: the mean of the cosine similarities of (desired titles ↔ the opening's
    title; character 2–4-grams) and (listed skills ↔ required and optional skills; tokens),
    TF-IDF fitted on this world's own texts (no outcome is read)."""
    pf, of = world.participants.frame, world.openings.frame
    p_title, o_title = _texts(pf["desired_titles"]), _texts(of["title"])
    p_skill = _texts(pf["skills"]) if "skills" in pf else np.full(len(pf), "")
    o_skill = np.char.add(np.char.add(_texts(of["required_skills"]), " "), _texts(of["optional_skills"]))
    mats: list[tuple[Any, Any] | None] = []
    for vec, a, b in (
        (TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=True), p_title, o_title),
        (TfidfVectorizer(token_pattern=r"[^\s]+", lowercase=True), p_skill, o_skill),
    ):
        try:
            vec.fit(np.r_[a, b])
        except ValueError:  # no text on either side (no skills listed anywhere): similarity 0
            mats.append(None)
            continue
        mats.append((normalize(vec.transform(a)).tocsr(), normalize(vec.transform(b)).tocsr()))

    def score(pairs: Pairs, levels: np.ndarray) -> np.ndarray:
        out = np.zeros(len(pairs))
        for m in mats:
            if m is None:
                continue
            a, b = m
            out += np.asarray(a[pairs.p].multiply(b[pairs.o]).sum(axis=1)).ravel()
        return out / len(mats)

    return score


def baselines(world: World) -> dict[str, Scorer]:
    return {"baseline_distance": distance_scorer(), "baseline_occupation": occupation_scorer(), "baseline_tfidf": tfidf_scorer(world)}


# ---------------------------------------------------------------------------- the world on a day
def filled_days(world: World, events: pd.DataFrame | None) -> np.ndarray:
    """Per opening, the ordinal day a job had as many NAV hires as positions (huge if never)."""
    out = np.full(len(world.openings), 10**7, dtype=np.int64)
    if events is None or events.empty:
        return out
    hires = events[events["event"] == "hired"]
    index = world.openings.index
    positions = world.openings.frame["positions"].to_numpy(int)
    is_job = ~world.openings.is_trial
    for oid, when in hires.groupby("opening_id")["occurred_at"]:
        o = index.get(oid)
        if o is None or not is_job[o]:
            continue
        days = np.sort([pd.Timestamp(w).date().toordinal() for w in when])
        if len(days) >= positions[o]:
            out[o] = days[positions[o] - 1] + 1  # filled from the day after the last hire
    return out


def world_on(world: World, day: int, filled: np.ndarray) -> World:
    """The same snapshot, with the openings open on `day` as the open ones (blocking reads
    `Openings.is_open`), every other encoding shared."""
    o = world.openings
    published = o.__dict__.get("_published_ord")
    if published is None:
        published = np.array([d.toordinal() if isinstance(d, dt.date) else 0 for d in pd.to_datetime(o.frame["published_at"]).dt.date])
        o.__dict__["_published_ord"] = published
    on = Openings(o.frame)
    on.__dict__.update({k: v for k, v in o.__dict__.items() if k not in ("frame", "_trees", "is_open")})
    on.__dict__["is_open"] = (published <= day) & (filled > day)
    out = World(world.participants, on, world.skill_vocab)
    out.__dict__.update({k: v for k, v in world.__dict__.items() if k in ("participant_skills", "likely_skills")})
    return out


# ---------------------------------------------------------------------------- the report
@dataclass
class RankingReport:
    """Per-participant figures of each scorer on the same queries (rows aligned across scorers)."""

    participants: np.ndarray  # participant ids, one row each
    per_participant: dict[str, dict[str, np.ndarray]]  # scorer → metric → one value per participant
    k: int = 10
    info: dict[str, Any] = field(default_factory=dict)  # queries, candidates, relevant, reachable

    @property
    def scorers(self) -> list[str]:
        return list(self.per_participant)

    def mean(self, scorer: str, metric: str) -> float:
        v = self.per_participant[scorer][metric]
        return float(v.mean()) if len(v) else float("nan")

    def bootstrap(self, *, n: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, dict[str, dict[str, float]]]:
        """Per scorer and metric: the mean and a percentile interval over participants resampled
        with replacement (the same draws for every scorer)."""
        draws = resample_indices(len(self.participants), n, seed)
        out: dict[str, dict[str, dict[str, float]]] = {}
        for s, metrics in self.per_participant.items():
            out[s] = {}
            for m, v in metrics.items():
                lo, hi = _interval(v, draws, level)
                out[s][m] = {"mean": round(self.mean(s, m), 4), "low": round(lo, 4), "high": round(hi, 4)}
        return out

    def summary(self, *, n: int = 1000, seed: int = 0) -> dict[str, Any]:
        """JSON-ready: what the model card stores."""
        out: dict[str, Any] = {
            **self.info,
            "k": self.k,
            "participants": len(self.participants),
            "bootstrap": {"resamples": n, "seed": seed},
        }
        out.update(self.bootstrap(n=n, seed=seed))
        if self.scorers:  # the first scorer (the model) against each other one, paired over participants
            first, metric = self.scorers[0], f"recall@{self.k}"
            a = self.per_participant[first][metric]
            out["paired"] = {
                f"{first} - {other}": {
                    metric: {k: round(v, 4) for k, v in paired_difference(a, self.per_participant[other][metric], n=n, seed=seed).items()}
                }
                for other in self.scorers[1:]
            }
        return out


def resample_indices(n_units: int, n: int, seed: int) -> np.ndarray:
    """(n, n_units) row indices, deterministic for a seed."""
    return np.random.default_rng(seed).integers(0, max(n_units, 1), size=(n, n_units)) if n_units else np.zeros((n, 0), dtype=np.int64)


def _interval(values: np.ndarray, draws: np.ndarray, level: float) -> tuple[float, float]:
    if len(values) == 0:
        return float("nan"), float("nan")
    means = values[draws].mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def paired_difference(a: np.ndarray, b: np.ndarray, *, n: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, float]:
    """Mean of a − b over the same participants, with a bootstrap interval (paired: each draw
    takes both figures of the participants it draws). For the promotion gate: a candidate is
    worse beyond noise when `high` < 0 (a = candidate, b = served)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError("paired figures need the same participants in the same order")
    d = a - b
    lo, hi = _interval(d, resample_indices(len(d), n, seed), level)
    return {"mean": float(d.mean()) if len(d) else float("nan"), "low": lo, "high": hi}


# ---------------------------------------------------------------------------- the evaluation
def _query_metrics(ranks: np.ndarray, k: int) -> tuple[float, float, float]:
    """One query: 1-based ranks of its relevant openings (np.inf: not a candidate)."""
    n_rel = len(ranks)
    hit = ranks[ranks <= k]
    recall = len(hit) / n_rel
    ideal = float((1.0 / np.log2(np.arange(2, min(n_rel, k) + 2))).sum())
    ndcg = float((1.0 / np.log2(hit + 1)).sum()) / ideal
    first = ranks.min()
    return recall, ndcg, (1.0 / first if np.isfinite(first) else 0.0)


def full_ranking(
    world: World,
    history: pd.DataFrame,
    cutoff: dt.datetime | np.datetime64 | str,
    scorers: Mapping[str, Scorer],
    *,
    k: int = 10,
    until: dt.datetime | np.datetime64 | str | None = None,
    events: pd.DataFrame | None = None,
) -> RankingReport:
    """Rank every eligible opening for each query after `cutoff` (and up to `until`, if given).

    Parameters
    ----------
    world : the snapshot (`store.snapshot.load_world`).
    history : one row per suggested pair: participant_id, opening_id, first_at (the first
        suggestion), grade (0 nothing, 1 interview, 2 trial started, 3 hired) —
        `training.outcome_pairs`.
    cutoff : queries are the (participant, day) of suggestions strictly after it; never tune on them.
    scorers : name → `Scorer` (`model_scorer(model)`, `baselines(world)`).
    events : the raw events (participant_id, opening_id, event, occurred_at), for the days
        jobs were filled through NAV; without them no opening counts as filled early.
    """
    h = history[history["participant_id"].isin(world.participants.index) & history["opening_id"].isin(world.openings.index)].copy()
    h["t"] = pd.to_datetime(h["first_at"])
    h["day"] = np.array([d.toordinal() for d in h["t"].dt.date], dtype=np.int64)
    h["p"] = h["participant_id"].map(world.participants.index).astype(np.int64)
    h["o"] = h["opening_id"].map(world.openings.index).astype(np.int64)
    after = h["t"] > pd.Timestamp(cutoff)
    if until is not None:
        after &= h["t"] <= pd.Timestamp(until)
    rel = h[after & (h["grade"] > 0)]
    n_o = len(world.openings)
    seen_key = h["p"].to_numpy() * n_o + h["o"].to_numpy()
    seen_day = h["day"].to_numpy()
    filled = filled_days(world, events)
    names = list(scorers)

    rows: list[tuple[int, int]] = []  # (participant row, day) per query
    per_query: dict[str, list[tuple[float, float, float]]] = {s: [] for s in names}
    n_candidates = n_relevant = n_reachable = 0
    for day, day_rel in rel.groupby("day", sort=True):
        p_rows = np.unique(day_rel["p"].to_numpy())
        w = world_on(world, int(day), filled)
        pairs = candidates.index(w).for_participants(p_rows, dt.date.fromordinal(int(day)))
        key = pairs.p * n_o + pairs.o
        # already suggested to this participant before today: known, left out
        earlier = seen_key[seen_day < day]
        pairs = pairs.subset(~np.isin(key, earlier))
        key = pairs.p * n_o + pairs.o
        lv = criterion_levels(pairs, ALL)
        tie = w.openings.tie_rank[pairs.o]
        orders = {}
        for s in names:
            score = np.asarray(scorers[s](pairs, lv), dtype=float)
            order = topk.top_k(pairs.p, topk.shown(score), tie, max(len(pairs), 1))
            g = pairs.p[order]
            starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.zeros(0, dtype=np.int64)
            rank = np.empty(len(order), dtype=float)
            rank[order] = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(g)])) + 1
            sorter = np.argsort(key)
            orders[s] = (key[sorter], rank[sorter])
        n_candidates += len(pairs)
        for p, group in day_rel.groupby("p", sort=True):
            want = p * n_o + group["o"].to_numpy()
            rows.append((int(p), int(day)))
            n_relevant += len(want)
            for s in names:
                keys, ranks = orders[s]
                at = np.searchsorted(keys, want)
                found = (at < len(keys)) & (keys[np.minimum(at, max(len(keys) - 1, 0))] == want) if len(keys) else np.zeros(len(want), bool)
                r = np.where(found, ranks[np.minimum(at, max(len(keys) - 1, 0))] if len(keys) else np.inf, np.inf)
                if s == names[0]:
                    n_reachable += int(found.sum())
                per_query[s].append(_query_metrics(r, k))

    q_p = np.array([r[0] for r in rows], dtype=np.int64)
    people, inverse = np.unique(q_p, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(people)).astype(float)
    per_participant: dict[str, dict[str, np.ndarray]] = {}
    for s in names:
        arr = np.array(per_query[s], dtype=float).reshape(-1, 3)
        per_participant[s] = {
            m: np.bincount(inverse, weights=arr[:, j], minlength=len(people)) / np.maximum(counts, 1) for j, m in enumerate(metric_names(k))
        }
    info = {
        "queries": len(rows),
        "relevant": n_relevant,
        "relevant_candidates": n_reachable,
        "mean_candidates_per_query": round(n_candidates / max(len(rows), 1), 1),
        "from": str(pd.Timestamp(cutoff))[:10],
    }
    return RankingReport(world.participants.ids[people].astype(str), per_participant, k, info)
