"""Evaluate every criterion over a set of pairs: the level matrix the model scores."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.criteria import ALL, Criterion
from matching.pairs import Pairs


@dataclass
class FeatureSet:
    criteria: tuple[Criterion, ...]
    levels: np.ndarray  # (n_pairs, n_criteria) int
    values: dict[str, dict[str, np.ndarray]]  # criterion → template values

    def __len__(self) -> int:
        return self.levels.shape[0]

    def values_at(self, i: int) -> dict[str, dict]:
        return {c: {k: _py(v[i]) for k, v in vals.items()} for c, vals in self.values.items()}


def _py(x):
    """numpy scalar → plain Python for JSON."""
    if isinstance(x, np.bool_ | bool):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return round(float(x), 4)
    return x


def evaluate(pairs: Pairs, criteria: tuple[Criterion, ...] = ALL) -> FeatureSet:
    levels = np.zeros((len(pairs), len(criteria)), dtype=np.int64)
    values = {}
    for j, crit in enumerate(criteria):
        ev = crit.evaluate(pairs)
        levels[:, j] = ev.level
        values[crit.name] = ev.values
    return FeatureSet(criteria, levels, values)
