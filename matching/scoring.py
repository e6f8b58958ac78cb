"""The additive, interpretable scoring model (splink's shape, monotone by construction).

Each criterion's level is encoded as a "thermometer" (level >= 1, level >= 2, …) and a
logistic regression learns one non-negative weight per step, so a better level can never
score lower. The weight of a level is the sum of its steps, stated relative to the
criterion's *neutral* level (`criteria.base.Levels.neutral`: the requirement met, the
employer's record at the prior, no industry wish, no experience, …): the neutral level
contributes 0, better levels ≥ 0, worse ones ≤ 0, so a contribution reads "better (+) or
worse (−) than neither for nor against", never "than the average suggested pair" (which
made an average record read as a minus). The neutral levels' weights move into the
intercept, which is therefore the raw score of a pair at every criterion's neutral level.
Hence, exactly: raw = intercept + Σ contributions and score = sigmoid(raw). A criterion
not assessed for a pair counts as its neutral level (contribution 0).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import joblib
import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from scipy.stats import norm

from matching.criteria import BY_NAME, RENAMED, Criterion

log = logging.getLogger(__name__)


@dataclass
class ScoringModel:
    version: str
    criteria: tuple[str, ...]
    level_weights: list[np.ndarray]  # per criterion: each level's contribution, 0 at its neutral level
    intercept: float
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def lookup(self) -> list[np.ndarray]:
        """Per criterion, the contribution of each level index: the learned levels, then 0 for
        `Criterion.not_assessed_level` (a pair scored as if the criterion did not exist)."""
        cached = self.__dict__.get("_lookup")
        if cached is None or len(cached) != len(self.level_weights):
            cached = [np.append(np.asarray(w, dtype=float), 0.0) for w in self.level_weights]
            self.__dict__["_lookup"] = cached
        return cached

    @property
    def weak_below(self) -> float:
        """The raw score under which a listed pair is *weak* (`explain.is_weak`): the logit of
        the share of suggested pairs in the training history that reached an interview or
        better — a pair the model gives a lower chance than the average past suggestion had.
        A model whose card does not record its training data: the intercept (a pair neutral on
        every criterion)."""
        data = self.card.get("training_data") or {}
        pairs, positives = data.get("pairs"), data.get("positives")
        if not pairs or not positives or positives >= pairs:
            return float(self.intercept)
        rate = positives / pairs
        return float(np.log(rate / (1 - rate)))

    def contributions(self, levels: np.ndarray) -> np.ndarray:
        """(n_pairs, n_criteria) contribution of each criterion's active level."""
        out = np.empty(levels.shape, dtype=float, order="F")
        for j, w in enumerate(self.lookup):
            out[:, j] = w[levels[:, j]]
        return out

    def raw_from(self, contributions: np.ndarray) -> np.ndarray:
        """intercept + Σ contributions, added criterion by criterion in a fixed order, so the
        batch (which never builds the contribution matrix) and a live request get the same bits."""
        total = np.zeros(len(contributions))
        for j in range(contributions.shape[1]):
            total += contributions[:, j]
        return self.intercept + total

    def raw(self, levels: np.ndarray) -> np.ndarray:
        total = np.zeros(len(levels))
        for j, w in enumerate(self.lookup):
            total += w[levels[:, j]]
        return self.intercept + total

    def score(self, levels: np.ndarray) -> np.ndarray:
        return self.sigmoid(self.raw(levels))

    @staticmethod
    def sigmoid(raw: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-raw))

    @staticmethod
    def logit(score: np.ndarray) -> np.ndarray:
        """The raw score of a score (`sigmoid`'s inverse): −inf for 0 and below, +inf for 1 and above."""
        score = np.asarray(score, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(score <= 0, -np.inf, np.where(score >= 1, np.inf, np.log(score) - np.log1p(-score)))

    # ---------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "criteria": list(self.criteria),
            "intercept": float(self.intercept),
            "level_weights": {c: [float(x) for x in w] for c, w in zip(self.criteria, self.level_weights)},
        }

    def save(self, model_dir: Path) -> tuple[Path, Path]:
        """joblib artefact (plain dict + numpy, no pickled classes) + JSON model card: a
        candidate. Which model is served is `models/LATEST`, moved by `matching.registry`."""
        model_dir.mkdir(parents=True, exist_ok=True)
        artefact = model_dir / f"matcher-{self.version}.joblib"
        card_path = model_dir / f"matcher-{self.version}.json"
        joblib.dump(self.to_dict(), artefact)
        card = {**self.card, **self.to_dict()}
        card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        return artefact, card_path

    @classmethod
    def from_dict(cls, data: dict[str, Any], card: dict[str, Any] | None = None) -> ScoringModel:
        # a criterion refined since the model was saved: its old levels, under the legacy name
        saved = {c: np.asarray(data["level_weights"][c], dtype=float) for c in data["criteria"]}
        criteria = tuple(RENAMED.get((c, len(w)), c) for c, w in saved.items())
        unknown = [c for c in criteria if c not in BY_NAME]
        if unknown:
            raise ValueError(f"model uses criteria this code does not have: {unknown}")
        weights = list(saved.values())
        for c, w in zip(criteria, weights):
            if len(w) != BY_NAME[c].n_levels:
                raise ValueError(f"model has {len(w)} levels for {c!r}, code has {BY_NAME[c].n_levels}")
        # Models saved before the neutral reference were centred on the training mean: the same
        # raw scores, restated (a no-op for a model saved since).
        weights, intercept = relative_to_neutral(weights, float(data["intercept"]), [BY_NAME[c].levels.neutral for c in criteria])
        return cls(data["version"], criteria, weights, intercept, card or {})

    @classmethod
    def load(cls, model_dir: Path, version: str | None = None) -> ScoringModel:
        if version is None:
            latest = model_dir / "LATEST"
            if not latest.exists():
                raise FileNotFoundError(f"no trained model in {model_dir}; run `matching train`")
            version = latest.read_text().strip()
        data = joblib.load(model_dir / f"matcher-{version}.joblib")
        card_path = model_dir / f"matcher-{version}.json"
        card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.exists() else {}
        return cls.from_dict(data, card)


def relative_to_neutral(weights: list[np.ndarray], intercept: float, neutral: list[int]) -> tuple[list[np.ndarray], float]:
    """Each criterion's level weights minus its neutral level's, that weight added to the
    intercept: every raw score stays exactly what it was (intercept + Σ contributions)."""
    out = []
    for w, ref in zip(weights, neutral):
        shift = float(w[ref])
        out.append(np.asarray(w, dtype=float) - shift)
        intercept += shift
    return out, intercept


def thermometer(levels: np.ndarray, n_levels: list[int]) -> np.ndarray:
    cols = []
    for j, m in enumerate(n_levels):
        for step in range(1, m):
            cols.append(levels[:, j] >= step)
    return np.column_stack(cols).astype(float) if cols else np.zeros((len(levels), 0))


def _step_differences(n_levels: list[int]) -> np.ndarray:
    """Rows w[k+1] - w[k] for consecutive steps of one criterion (none across criteria)."""
    n_w = sum(m - 1 for m in n_levels)
    rows, pos = [], 0
    for m in n_levels:
        for k in range(m - 2):
            r = np.zeros(n_w)
            r[pos + k], r[pos + k + 1] = -1.0, 1.0
            rows.append(r)
        pos += m - 1
    return np.array(rows) if rows else np.zeros((0, n_w))


def fit(
    levels: np.ndarray,
    y: np.ndarray,
    criteria: tuple[Criterion, ...],
    *,
    l2: float = 1.0,
    smooth: float = 0.0,
    version: str = "dev",
    sample_weight: np.ndarray | None = None,
    steps: Literal["mean", "mode"] = "mean",
) -> ScoringModel:
    """Penalised logistic regression with non-negative step weights (L-BFGS-B bounds).

    ``l2`` shrinks every step towards 0; ``smooth`` shrinks each step towards its neighbours
    in the same criterion (the squared difference of consecutive steps), so where the data
    say little about one step it takes the size of the steps around it instead of collapsing
    to 0 and making two levels score the same.

    ``steps``: "mode" keeps the penalised maximum-likelihood steps; "mean" (the default)
    states each step as the mean of its posterior under the monotone prior instead
    (`posterior_mean_steps`): the mode of a step the data cannot tell from zero sits exactly
    on the bound, 0, and so claims two adjacent levels are equal, which the data never showed
    (they showed "not clearly better"); the mean stays above 0 by as much as the data leave
    open. The intercept is then refitted to the new steps."""
    n_levels = [c.n_levels for c in criteria]
    X = thermometer(levels, n_levels)
    unseen = unobserved_levels(levels, n_levels)
    fixed = fixed_steps(unseen, n_levels)
    D = _step_differences(n_levels)
    if fixed.any():  # a step held at 0 neither pulls its neighbours towards 0 nor is pulled
        D = D[~(np.abs(D[:, fixed]) > 0).any(axis=1)]
    y = np.asarray(y, dtype=float)
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    sw = sw / sw.sum()
    n_w = X.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        b, w = theta[0], theta[1:]
        z = b + X @ w
        # log(1 + e^z) - y z, stable
        nll = np.logaddexp(0.0, z) - y * z
        p = expit(z)
        g = sw * (p - y)
        dw = D @ w
        value = float(sw @ nll) + 0.5 * l2 / len(y) * float(w @ w) + 0.5 * smooth / len(y) * float(dw @ dw)
        grad = np.concatenate([[g.sum()], X.T @ g + l2 / len(y) * w + smooth / len(y) * (D.T @ dw)])
        return value, grad

    prior = np.clip(np.average(y, weights=sw), 1e-6, 1 - 1e-6)
    theta0 = np.concatenate([[np.log(prior / (1 - prior))], np.zeros(n_w)])
    bounds = [(None, None)] + [(0.0, 0.0) if f else (0.0, None) for f in fixed]
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000})
    if not res.success:
        log.warning("optimiser stopped early: %s", res.message)
    b, w = float(res.x[0]), res.x[1:]
    if steps == "mean":
        curvature = (sw * expit(b + X @ w) * (1 - expit(b + X @ w))) @ (X * X) + (l2 + smooth * (D * D).sum(axis=0)) / len(y)
        gradient = loss(res.x)[1][1:]
        w = posterior_mean_steps(w, gradient, curvature, len(y), fixed)
        b = _refit_intercept(b, X @ w, y, sw)

    level_weights, pos = [], 0
    intercept = b
    for m in n_levels:
        steps = w[pos : pos + m - 1]
        pos += m - 1
        level_weights.append(np.concatenate([[0.0], np.cumsum(steps)]))
    level_weights, intercept = relative_to_neutral(level_weights, intercept, [c.levels.neutral for c in criteria])
    return ScoringModel(
        version,
        tuple(c.name for c in criteria),
        level_weights,
        intercept,
        {
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "not_learned": {c.name: levels_ for c, levels_ in zip(criteria, unseen) if levels_},
        },
    )


def posterior_mean_steps(mode: np.ndarray, gradient: np.ndarray, curvature: np.ndarray, n: int, fixed: np.ndarray) -> np.ndarray:
    """Each step's posterior mean under the prior "non-negative" (monotone levels), from the
    penalised fit's mode: a Laplace approximation per step, conditional on the others.

    The loss is an average over ``n`` pairs, so a step's log-posterior near the mode is
    ``-n (g (w - mode) + h (w - mode)² / 2)`` (``g`` its gradient, ``h`` its curvature): a
    normal with mean ``mode - g / h`` (``mode`` inside the bound, where g = 0; at or below 0
    on the bound, where the fit wanted to go lower) and standard deviation ``1 / sqrt(n h)``,
    cut at 0. The mean of that truncated normal is > 0 always, close to the mode when the mode
    is well above its uncertainty, and about ``0.8 σ`` or less for a step on the bound: a small,
    data-sized difference where the mode claimed none. Steps `fixed_steps` holds at 0 (a level
    no pair has) stay 0: there is no posterior to speak of."""
    mu = mode - gradient / curvature
    sigma = 1.0 / np.sqrt(n * curvature)
    alpha = -mu / sigma
    # E[w | w >= 0] = mu + sigma * pdf(alpha) / sf(alpha), in logs for stability
    mean = mu + sigma * np.exp(norm.logpdf(alpha) - norm.logsf(alpha))
    return np.where(fixed, 0.0, np.maximum(mean, 0.0))


def _refit_intercept(b: float, offset: np.ndarray, y: np.ndarray, sw: np.ndarray) -> float:
    """The intercept maximising the (weighted) likelihood with the steps fixed (Newton's method)."""
    for _ in range(50):
        p = expit(b + offset)
        g, h = float(sw @ (p - y)), float(sw @ (p * (1 - p)))
        if h <= 0:
            break
        b -= g / h
        if abs(g / h) < 1e-12:
            break
    return b


def unobserved_levels(levels: np.ndarray, n_levels: list[int]) -> list[list[int]]:
    """Per criterion, the level indexes no training pair has (not counting "not assessed")."""
    out = []
    for j, m in enumerate(n_levels):
        seen = np.bincount(levels[:, j][levels[:, j] < m], minlength=m)[:m] > 0 if len(levels) else np.zeros(m, bool)
        out.append([k for k in range(m) if not seen[k]])
    return out


def fixed_steps(unseen: list[list[int]], n_levels: list[int]) -> np.ndarray:
    """Which thermometer steps the data cannot identify; `fit` holds them at weight 0.

    Step k of a criterion (level >= k) is fixed when level k has no training pair (the level
    then scores as the level below it: no weight is learned for it) or when no pair lies on
    one side of the step (below k or at/above k: the column is constant, the intercept's).
    A criterion that never varied in training therefore has every weight 0, and a level never
    observed adds nothing to the level below it (literally 0 relative to the neutral level
    would break the monotonicity the model guarantees when the level below is not neutral)."""
    out = []
    for m, missing in zip(n_levels, unseen):
        seen = [k for k in range(m) if k not in missing]
        for k in range(1, m):
            below = any(s < k for s in seen)
            above = any(s >= k for s in seen)
            out.append(k in missing or not below or not above)
    return np.array(out, dtype=bool)
