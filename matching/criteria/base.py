"""What a criterion (one feature family) declares, splink-style.

A criterion turns every candidate pair into one of a few ordered, labelled levels, worst
first. The model learns one non-decreasing weight per level, so a better level can never
lower a score (monotone by construction). `direction` says how the underlying raw value
relates to the levels ("increasing": a larger value is a better level). Reason texts are
templates filled with the pair's real values, in bokmål and English.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from matching.pairs import Pairs

Values = dict[str, np.ndarray]
Texts = Mapping[str, str]  # lang → template


@dataclass(frozen=True)
class Evaluation:
    level: np.ndarray  # int level per pair, 0 = worst
    values: Values  # arrays quoted by the templates, one entry per pair


@dataclass(frozen=True)
class Criterion:
    name: str
    levels: tuple[Texts, ...]  # short level labels, worst → best
    evaluate: Callable[[Pairs], Evaluation]
    reason: Callable[[int, Mapping[str, Any], str], str]  # (level, values, lang) → text
    direction: Literal["increasing", "decreasing"] = "increasing"
    description: str = ""
    #: Health-related (GDPR art. 9): an employer-facing view weighs it only with consent.
    sensitive: bool = False
    #: The reason for a pair the criterion was deliberately not assessed on (level
    #: `not_assessed_level`, contribution 0): e.g. needs not shared with employers.
    not_assessed: Texts | None = field(default=None)
    #: True where the pair's values say nothing about fit (e.g. no needs registered): the
    #: criterion still scores and shows in the full explanation, but is not a headline reason.
    uninformative: Callable[[Mapping[str, Any]], bool] | None = field(default=None)
    #: Levels only, the same as ``evaluate(pairs).level`` but cheaper (the batch needs no values).
    fast_level: Callable[[Pairs], np.ndarray] | None = field(default=None)

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def not_assessed_level(self) -> int:
        """The level index that means "not assessed": one past the learned levels. The model
        gives it contribution 0 (the training mean), so the pair scores as if the criterion
        did not exist, whatever the data behind it."""
        return len(self.levels)

    def level_of(self, pairs: Pairs) -> np.ndarray:
        return self.fast_level(pairs) if self.fast_level is not None else self.evaluate(pairs).level

    def level_label(self, level: int, lang: str) -> str:
        if level == self.not_assessed_level:
            return NOT_ASSESSED_LABEL[lang]
        return self.levels[level][lang]

    def text(self, level: int, values: Mapping[str, Any], lang: str) -> str:
        if level == self.not_assessed_level:
            return (self.not_assessed or NOT_ASSESSED_LABEL)[lang]
        return self.reason(level, values, lang)


NOT_ASSESSED_LABEL: Texts = {"nb": "ikke vurdert", "en": "not assessed"}


def bin_levels(value: np.ndarray, thresholds: list[float], direction: str) -> np.ndarray:
    """Level index from thresholds: for "increasing", value >= threshold[i] lifts a level;
    for "decreasing", value <= threshold[i] lifts a level (thresholds listed worst → best)."""
    value = np.asarray(value, dtype=float)
    level = np.zeros(value.shape, dtype=np.int64)
    for thr in thresholds:
        level += (value >= thr) if direction == "increasing" else (value <= thr)
    return level


def num(x: float, lang: str, max_decimals: int = 1) -> str:
    """A number as a person writes it: no trailing zeros, decimal comma in bokmål."""
    text = f"{float(x):.{max_decimals}f}".rstrip("0").rstrip(".") if max_decimals else f"{float(x):.0f}"
    return text.replace(".", ",") if lang != "en" else text
