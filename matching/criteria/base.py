"""What a criterion (one feature family) declares, splink-style.

A criterion turns every candidate pair into one of a few ordered, labelled levels, worst
first. The model learns one non-decreasing weight per level, so a better level can never
lower a score (monotone by construction).

One declaration per criterion: `Levels` states the levels once — from a threshold list
(the binning, the level count and the label keys all follow from it) or as a number of
categories — and their labels come from the message catalogues (`<key>.level.<i>`,
:mod:`matching.messages`). A criterion's module holds both halves of its work:

* ``level`` — every candidate pair's level, the batch's hot path: computed once per
  distinct key where the costly levels depend on less than the pair;
* ``values`` — what a reason quotes, computed only for the pairs a response or a stored
  list shows, and ``reason`` renders them from catalogue phrases.

Where the fast level and the quoted values come from different arithmetic,
``level_of_values`` gives the level the values imply, and tests check the two agree
(tests/test_levels.py). Adding a criterion is one module (declaration, ``level``,
``values``, ``reason``) plus its catalogue entries.

This module imports no criterion: the shared helpers of the fast paths live here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

import numpy as np

from matching.messages import num, quoted_list, t
from matching.pairs import Pairs

Direction = Literal["increasing", "decreasing"]
#: Arrays a reason quotes, one entry per pair.
Values = dict[str, np.ndarray]
#: One pair's quoted values, as plain Python (what an explanation carries).
PairValues = Mapping[str, Any]

__all__ = [
    "Criterion",
    "Direction",
    "Levels",
    "PairValues",
    "Values",
    "by_classes",
    "cached",
    "classes",
    "compact",
    "num",
    "quoted_list",
    "t",
]


@dataclass(frozen=True)
class Levels:
    """A criterion's ordered levels, worst first, labelled ``<key>.level.<i>`` in the catalogues.

    Declare them once with :meth:`from_thresholds` (the binning and the level count follow
    from the threshold list) or :meth:`categories` (the criterion computes the level itself).
    Criteria that share labels share a key (``norwegian`` and ``education``: "requirement").
    """

    key: str
    count: int
    thresholds: tuple[float, ...] = ()
    direction: Direction = "increasing"
    #: The reference level: what a person would call neither for nor against the pair (an
    #: employer's record at the prior, a requirement met, no industry wish, no experience).
    #: Contributions are stated relative to it (`matching.scoring`): it contributes 0, better
    #: levels ≥ 0, worse levels ≤ 0, and a criterion not assessed counts as this level.
    neutral: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.neutral < self.count:
            raise ValueError(f"levels {self.key!r}: neutral level {self.neutral} outside 0..{self.count - 1}")

    @classmethod
    def from_thresholds(cls, key: str, thresholds: Sequence[float], direction: Direction = "increasing", *, neutral: int = 0) -> Levels:
        """For "increasing", value >= threshold[i] lifts a level; for "decreasing",
        value <= threshold[i] lifts a level (thresholds listed worst → best)."""
        return cls(key, len(thresholds) + 1, tuple(float(x) for x in thresholds), direction, neutral)

    @classmethod
    def categories(cls, key: str, count: int, *, neutral: int = 0) -> Levels:
        return cls(key, count, neutral=neutral)

    def __len__(self) -> int:
        return self.count

    def bin(self, value: np.ndarray) -> np.ndarray:
        """Level index of each value (uint8: a level matrix's type; NaN is level 0).

        One comparison per threshold into a reused boolean buffer, counted in uint8: a
        third of the time of int64 counts (the batch bins ~60M distances a national shard
        sample, 19 thresholds each; a binary search per value was slower still)."""
        if not self.thresholds:
            raise TypeError(f"levels {self.key!r} are categories, not thresholds: nothing to bin")
        value = np.asarray(value, dtype=float)
        level = np.zeros(value.shape, dtype=np.uint8)
        hit = np.empty(value.shape, dtype=bool)
        compare = np.greater_equal if self.direction == "increasing" else np.less_equal
        for thr in self.thresholds:
            compare(value, thr, out=hit)
            level += hit.view(np.uint8)
        return level

    def label_keys(self) -> tuple[str, ...]:
        return tuple(f"{self.key}.level.{i}" for i in range(self.count))

    def label(self, level: int, lang: str) -> str:
        return t(self.label_keys()[level], lang)


NOT_ASSESSED = "level.not_assessed"


@dataclass(frozen=True)
class Criterion:
    name: str
    levels: Levels
    #: Every pair's level (int array, 0 = worst): the fast path, run on every candidate pair.
    level: Callable[[Pairs], np.ndarray]
    #: What the reason quotes, for the pairs that are shown only.
    values: Callable[[Pairs], Values]
    #: (level, one pair's values, lang) → text, from catalogue phrases.
    reason: Callable[[int, PairValues, str], str]
    description: str = ""
    #: Health-related (GDPR art. 9): an employer-facing view weighs it only with consent.
    sensitive: bool = False
    #: Catalogue key of the reason for a pair the criterion was deliberately not assessed on
    #: (level `not_assessed_level`, contribution 0): e.g. needs not shared with employers.
    not_assessed: str | None = field(default=None)
    #: True where the pair's values say nothing about fit (e.g. no needs registered): the
    #: criterion still scores and shows in the full explanation, but is not a headline reason.
    uninformative: Callable[[PairValues], bool] | None = field(default=None)
    #: The level the quoted values imply, where ``level`` reaches it by other arithmetic (the
    #: per-key fast paths); tests check ``level(pairs) == level_of_values(values(pairs))``.
    level_of_values: Callable[[Values], np.ndarray] | None = field(default=None)
    #: (one pair's values, lang) → the values as an explanation shows them: labels, ISO dates,
    #: codes as strings, lists instead of bit masks and packed strings. None: shown as they are
    #: (numbers rounded by `matching.explain`).
    shown_values: Callable[[PairValues, str], dict[str, Any]] | None = field(default=None)
    #: For values that depend on the day (not only on the two rows): (one pair's values as
    #: computed on one day, another day's ordinal) → the values on that day. A stored list's
    #: quoted values are moved to today with it (matching/serving.py).
    on_day: Callable[[PairValues, int], PairValues] | None = field(default=None)
    #: The level reads the opening (and the day) only, never the participant: the batch
    #: computes it once per opening, not once per pair (tests/test_levels.py checks it).
    opening_only: bool = field(default=False)

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def direction(self) -> Direction:
        return self.levels.direction

    @property
    def not_assessed_level(self) -> int:
        """The level index that means "not assessed": one past the learned levels. The model
        gives it contribution 0 (the neutral level's), so the pair scores as if the criterion
        did not exist, whatever the data behind it."""
        return len(self.levels)

    def level_label(self, level: int, lang: str) -> str:
        if level == self.not_assessed_level:
            return t(NOT_ASSESSED, lang)
        return self.levels.label(level, lang)

    def text(self, level: int, values: PairValues, lang: str) -> str:
        if level == self.not_assessed_level:
            return t(self.not_assessed or NOT_ASSESSED, lang)
        return self.reason(level, values, lang)


# ---------------------------------------------------------------------------- fast-path helpers


#: `compact` sorts instead of marking when the rows are this many times fewer than `n`.
SORT_BELOW = 32


def compact(p: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows ascending, each pair's position among them): linear in pairs + n, no
    sort, unless the pairs are few next to `n` (a live request's few thousand pairs among
    300,000 participants), when a sort of the pairs is cheaper than touching `n` cells."""
    if len(p) * SORT_BELOW < n:
        rows, pos = np.unique(p, return_inverse=True)
        return rows, np.asarray(pos, dtype=np.int64).reshape(-1)
    mark = np.zeros(n, dtype=bool)
    mark[p] = True
    rows = np.flatnonzero(mark)
    pos = np.zeros(n, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    return rows, pos[p]


def classes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows of `values` (1- or 2-D), each row's index among them as intp)."""
    values = np.asarray(values)
    if values.ndim == 1:
        distinct, code = np.unique(values, return_inverse=True)
    else:
        distinct, code = np.unique(values, axis=0, return_inverse=True)
    return distinct, np.asarray(code, dtype=np.intp).reshape(-1)


def by_classes(
    pairs: Pairs,
    name: str,
    p_values: Callable[[], np.ndarray],
    o_values: Callable[[], np.ndarray],
    level: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Each pair's level as ``level(p_values()[pairs.p], o_values()[pairs.o])`` gives it, for a
    level that reads a few participant and opening fields with few distinct values (hours:
    5 participant classes × 8 opening classes nationally): `level` runs once per combination
    of distinct values (a table, once per snapshot) and a pair's level is a table lookup,
    three gathers instead of its arithmetic on every pair. `level` gets rows of values
    (2-D when the fields are several, one column each)."""
    w = pairs.world
    p_distinct, p_code = cached(w.participants, f"_classes_{name}", lambda: classes(p_values()))
    o_distinct, o_code = cached(w.openings, f"_classes_{name}", lambda: classes(o_values()))

    def build() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        pi, oi = np.meshgrid(np.arange(len(p_distinct)), np.arange(len(o_distinct)), indexing="ij")
        table = np.asarray(level(p_distinct[pi.ravel()], o_distinct[oi.ravel()]), dtype=np.uint8)
        return p_distinct, o_distinct, table, len(o_distinct)

    # the table belongs to these two vocabularies (a posted profile's world has its own participants)
    hit = w.__dict__.get(f"_table_{name}")
    if hit is None or hit[0] is not p_distinct or hit[1] is not o_distinct:
        hit = w.__dict__[f"_table_{name}"] = build()
    _, _, table, width = hit
    flat = p_code[pairs.p] * width
    flat += o_code[pairs.o]
    return table[flat]


T = TypeVar("T")


def cached(obj: object, name: str, build: Callable[[], T]) -> T:
    """``build()`` once per object (a snapshot's table or encoding), kept on the object."""
    hit = obj.__dict__.get(name)
    if hit is None:
        hit = obj.__dict__[name] = build()
    return cast(T, hit)
