"""Top-k per group over flat pair arrays, without a Python loop per group.

Used by the batch on millions of pairs: the order is score descending, then the other
side's id ascending (as an integer rank), so ties resolve exactly as in live ranking.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def top_k(group: np.ndarray, score: np.ndarray, tie: np.ndarray, k: int) -> np.ndarray:
    """Indices of each group's best k pairs, ordered by group, then rank."""
    n = len(group)
    if n == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((tie, -score, group))
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    pos = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    return order[pos < k]


@dataclass
class Ranked:
    """Ranked lists as parallel arrays: rows of one group are contiguous, best first."""

    group: np.ndarray  # subject row (participant or opening)
    other: np.ndarray  # the listed row on the other side
    score: np.ndarray  # float64
    levels: np.ndarray  # (n, n_criteria) uint8

    def __len__(self) -> int:
        return len(self.group)

    def take(self, idx: np.ndarray) -> Ranked:
        return Ranked(self.group[idx], self.other[idx], self.score[idx], self.levels[idx])

    @classmethod
    def empty(cls, n_criteria: int) -> Ranked:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), np.zeros(0), np.zeros((0, n_criteria), dtype=np.uint8))

    @classmethod
    def concat(cls, parts: list[Ranked]) -> Ranked:
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("group", "other", "score", "levels")))

    def segments(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) of each group's rows."""
        if len(self) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, self.group[1:] != self.group[:-1]])
        return starts, np.r_[starts[1:], len(self)]


def best(ranked: Ranked, tie_rank: np.ndarray, k: int) -> Ranked:
    """The best k of each group of (possibly unsorted, partial) lists: merging shards."""
    return ranked.take(top_k(ranked.group, ranked.score, tie_rank[ranked.other], k))
