"""Top-k, the one implementation: per group over flat pair arrays, without a Python loop
per group.

Used by the batch on millions of pairs and by every live request (one group: one subject)
alike: the order is the score *as shown* descending (`shown`: SCORE_DECIMALS decimals — a
difference a reader cannot see does not order a list), then the other side's `tie_rank`
ascending, so ties resolve the same way everywhere. The tie-break is evidence an adviser can
see (`World.Openings.tie_rank`: earlier application deadline, then the employer's better
inclusion record, then the id; `World.Participants.tie_rank`: available sooner, then the id).
Callers pass `shown(score)` to `top_k`; `best` does it itself.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

#: Scores are ranked and shown with this many decimals (the API's `score`).
SCORE_DECIMALS = 3
#: Below this many pairs a plain sort is cheaper than the bucket prefilter.
PREFILTER_MIN = 20_000
BUCKETS = 64
#: Buckets of `kth_floor` (finer than the prefilter's: bounds are a few hundredths apart).
BOUND_BUCKETS = 256


def shown(score: np.ndarray) -> np.ndarray:
    """Scores as a person reads them (SCORE_DECIMALS decimals): what lists are ranked by."""
    return np.round(np.asarray(score, dtype=float), SCORE_DECIMALS)


def tied(scores: list[float]) -> list[bool]:
    """Per entry of a ranked list: does its shown score equal the one above it?"""
    s = shown(np.asarray(scores, dtype=float)).tolist()
    return [i > 0 and s[i] == s[i - 1] for i in range(len(s))]


def similar(keys: Sequence[Hashable]) -> list[list[int]]:
    """A ranked list's entries grouped by equal keys, in rank order: each group is led by its
    best-ranked entry, its others follow in rank order. A participant's list groups openings
    at one employer that are alike on every criterion (`serving`: same employer, kind and
    level of every criterion, hence the same score and reasons): one entry, "N similar
    openings at this employer", instead of N tied entries an adviser cannot tell apart."""
    lead: dict[Hashable, int] = {}
    groups: list[list[int]] = []
    for i, key in enumerate(keys):
        if key in lead:
            groups[lead[key]].append(i)
        else:
            lead[key] = len(groups)
            groups.append([i])
    return groups


def top_k(group: np.ndarray, score: np.ndarray, tie: np.ndarray, k: int) -> np.ndarray:
    """Indices of each group's best k pairs, ordered by group, then rank (score descending,
    then `tie` ascending)."""
    n = len(group)
    if n == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < n and group[0] == group[-1] and (group == group[0]).all():
        # One subject (a live request): sort only what can make the top k, ties at the cut included.
        kth = np.partition(score, n - k)[n - k]
        keep = np.flatnonzero(score >= kth)
        return keep[np.lexsort((tie[keep], -score[keep]))][:k]
    if n < PREFILTER_MIN:
        return _sorted_top_k(group, score, tie, k)
    idx = np.flatnonzero(_may_enter(group, score, k))
    return idx[_sorted_top_k(group[idx], score[idx], tie[idx], k)]


def _sorted_top_k(group: np.ndarray, score: np.ndarray, tie: np.ndarray, k: int) -> np.ndarray:
    n = len(group)
    order = _rank_order(group, score, tie)
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    pos = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    return order[pos < k]


def _rank_order(group: np.ndarray, score: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """``np.lexsort((tie, -score, group))``: by group, then score descending, then tie, equal
    keys in input order. Shown scores (SCORE_DECIMALS decimals, in [0, 1]) are few distinct
    integers apart, so with non-negative integer groups and ties the three keys fit one int64,
    and one stable sort of it is ~10× faster than lexsort's three (the batch sorts millions of
    pairs per shard and per merge). Any other input is lexsorted."""
    scale = 10**SCORE_DECIMALS
    if len(group) and group.dtype.kind in "iu" and tie.dtype.kind in "iu":
        g_max, t_min, t_max = int(group.max()), int(tie.min()), int(tie.max())
        if int(group.min()) >= 0 and t_min >= 0 and (g_max + 1) * (scale + 1) * (t_max + 1) < 2**62:
            q = np.rint(np.asarray(score, dtype=float) * scale)
            if np.array_equal(q / scale, score) and q.min() >= 0 and q.max() <= scale:  # shown scores in [0, 1]
                key = group.astype(np.int64) * (scale + 1)
                key += scale - q.astype(np.int64)
                key *= t_max + 1
                key += tie
                return np.argsort(key, kind="stable")
    return np.lexsort((tie, -score, group))


def _buckets(values: np.ndarray, n: int = BUCKETS) -> tuple[int, np.ndarray]:
    """Equal-width buckets over the value range: their number and each value's bucket
    (non-decreasing in the value, as the arithmetic is monotone)."""
    lo, hi = float(values.min()), float(values.max())
    width = (hi - lo) / n
    if not width > 0:
        return 1, np.zeros(len(values), dtype=np.int64)
    return n, np.minimum(((values - lo) * (1.0 / width)).astype(np.int64), n - 1)


def _cut(group: np.ndarray, bucket: np.ndarray, nb: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: its group (compacted); per group the best bucket that, with the buckets
    above it, holds at least k pairs (0 when the group has fewer than k), and its pairs."""
    present = np.bincount(group) > 0
    compact = (np.cumsum(present) - 1)[group]
    counts = np.bincount(compact * nb + bucket, minlength=int(present.sum()) * nb).reshape(-1, nb)
    np.cumsum(counts, axis=1, out=counts)  # pairs in this bucket or worse
    total = counts[:, -1].copy()
    # bucket b holds, with those above it, total - (pairs below b) pairs: count the b >= 1 where
    # that is at least k (bucket 0 always is, when the group has k pairs at all)
    return compact, (counts[:, :-1] <= (total - k)[:, None]).sum(axis=1), total


def _may_enter(group: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """An exact prefilter, linear time: pairs whose score bucket is below the bucket that
    holds a group's k-th best score are strictly worse than k others, ties included, so
    only the rest (about k per group plus one bucket) needs sorting."""
    nb, bucket = _buckets(score)
    compact, cut, _ = _cut(group, bucket, nb, k)
    return bucket >= cut[compact]


def kth_floor(group: np.ndarray, value: np.ndarray, k: int, n_buckets: int = BOUND_BUCKETS) -> tuple[np.ndarray, np.ndarray]:
    """Per pair its group (compacted: 0, 1, … in the order of the group ids), and per group a
    floor under its k-th largest `value`: −inf for a group of fewer than k pairs, otherwise
    the lower edge of the bucket that holds its k-th largest value (less a margin for the
    bucket arithmetic's rounding), so at least k of the group's values are >= its floor.
    Linear time: the prefilter's buckets, without a sort."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    lo, hi = float(value.min()), float(value.max())
    width = (hi - lo) / n_buckets
    if width > 0:
        nb, bucket = n_buckets, np.minimum(((value - lo) * (1.0 / width)).astype(np.int64), n_buckets - 1)
    else:
        nb, bucket, width = 1, np.zeros(n, dtype=np.int64), 0.0
    compact, cut, total = _cut(group, bucket, nb, k)
    # A value in bucket b has (value - lo) / width >= b up to the rounding of one subtraction and
    # one product (relative 1e-16): the edge less 1e-9 (relative to the range) is below it.
    floor = lo + cut * width - 1e-9 * (1.0 + abs(lo) + abs(hi))
    floor[total < k] = -np.inf
    return compact, floor


def may_reach(
    group: np.ndarray,
    partial: np.ndarray,
    lo: float,
    hi: float,
    k: int,
    sigmoid: Callable[[np.ndarray], np.ndarray],
    logit: Callable[[np.ndarray], np.ndarray],
    n_buckets: int = BOUND_BUCKETS,
) -> np.ndarray:
    """Which pairs may be among their group's k best, knowing only bounds on each pair's raw
    score (``partial + lo <= raw <= partial + hi``; the shown score is ``shown(sigmoid(raw))``,
    `logit` sigmoid's inverse). Linear time, and no sigmoid or rounding per pair: a floor
    under each group's k-th best ``partial`` (`kth_floor`) gives a shown score at least k of
    its pairs reach (shown ∘ sigmoid is monotone), and its bar the raw score below which a
    pair shows less than that (`least_showing`, less a margin for logit's rounding): a pair
    whose upper bound is under its group's bar is strictly worse than k other pairs of its
    group, ties included, so `top_k` never lists it."""
    if len(group) == 0 or k <= 0:
        return np.zeros(len(group), dtype=bool)
    compact, floor = kth_floor(group, partial, k, n_buckets)
    bar = logit(least_showing(shown(sigmoid(floor + lo))))
    return partial >= (bar - 1e-9 * (1.0 + np.abs(bar)) - hi)[compact]


def least_showing(score: np.ndarray) -> np.ndarray:
    """Per shown score s (`shown`), a score p below which every score shows below s: s less
    half the last shown decimal (a score exactly there may round either way), less a margin
    for the rounding's own arithmetic. Where s is 0, no score shows below it: −inf."""
    half = 0.5 / 10**SCORE_DECIMALS
    p = np.asarray(score, dtype=float) - half * (1.0 + 1e-9)
    return np.where(p > 0, p, -np.inf)


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
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("group", "other", "score", "levels")))

    def segments(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) of each group's rows."""
        if len(self) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, self.group[1:] != self.group[:-1]])
        return starts, np.r_[starts[1:], len(self)]


def best(ranked: Ranked, tie_rank: np.ndarray, k: int) -> Ranked:
    """The best k of each group of (possibly unsorted, partial) lists: merging shards."""
    return ranked.take(top_k(ranked.group, shown(ranked.score), tie_rank[ranked.other], k))
