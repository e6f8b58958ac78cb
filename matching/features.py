"""Evaluate every criterion over a set of pairs: the level matrix the model scores.

Levels are computed for every pair (each criterion's fast path); the values a reason
quotes only for the pairs that are shown (`take` the winners first, then `values_at`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matching.criteria import ALL, Criterion
from matching.pairs import Pairs


@dataclass
class FeatureSet:
    criteria: tuple[Criterion, ...]
    levels: np.ndarray  # (n_pairs, n_criteria) uint8, column-major (one criterion = one contiguous column)
    pairs: Pairs
    _lists: dict[str, dict[str, list]] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.levels.shape[0]

    def take(self, idx: np.ndarray) -> FeatureSet:
        """These pairs only: a ranked list explains its top k, not every candidate scored."""
        return FeatureSet(self.criteria, self.levels[idx], self.pairs.subset(idx))

    def values_at(self, i: int) -> dict[str, dict]:
        """Plain-Python template values of pair i (JSON-ready)."""
        lists = self._plain()
        return {c: {k: v[i] for k, v in vals.items()} for c, vals in lists.items()}

    def columns(self) -> dict[str, dict[str, np.ndarray]]:
        """Every pair's quoted values, column by column: criterion → value name → one entry per
        pair, as arrays whose ``tolist()`` is the plain-Python values (`values_at`): a caller
        that slices them per list converts each column once, in the shape it needs."""
        return {c.name: {k: _plain_array(v) for k, v in c.values(self.pairs).items()} for c in self.criteria}

    def _plain(self) -> dict[str, dict[str, list]]:
        # Computed and converted once per feature set, for its pairs only: per-pair numpy
        # scalar conversion dominated the batch.
        if self._lists is None:
            self._lists = {c.name: {k: _plain_list(v) for k, v in c.values(self.pairs).items()} for c in self.criteria}
        return self._lists


def _plain_array(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr)
    return np.round(arr, 4) if arr.dtype.kind == "f" else arr


def _plain_list(arr: np.ndarray) -> list:
    return _plain_array(arr).tolist()


def levels(pairs: Pairs, criteria: tuple[Criterion, ...] = ALL) -> np.ndarray:
    """(n_pairs, n_criteria) uint8 levels, column-major."""
    out = np.zeros((len(pairs), len(criteria)), dtype=np.uint8, order="F")
    for j, crit in enumerate(criteria):
        out[:, j] = crit.level(pairs)
    return out


def evaluate(pairs: Pairs, criteria: tuple[Criterion, ...] = ALL) -> FeatureSet:
    return FeatureSet(criteria, levels(pairs, criteria), pairs)
