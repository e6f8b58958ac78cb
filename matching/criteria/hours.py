"""Hours fit: the opening's weekly hours against the most the participant can work."""
from __future__ import annotations

import numpy as np

from matching.criteria.base import Criterion, Levels, PairValues, Values, num, t
from matching.pairs import Pairs

FIT = Levels.from_thresholds("hours", [10.0, 0.0], "decreasing", neutral=2)  # hours above the wish


def _hours(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    return pairs.ocol("hours_per_week").astype(float), pairs.pcol("max_hours_per_week").astype(float)


def _level(pairs: Pairs) -> np.ndarray:
    hours, limit = _hours(pairs)
    return FIT.bin(hours - limit)


def _values(pairs: Pairs) -> Values:
    hours, limit = _hours(pairs)
    return {"hours": hours, "max_hours": limit}


def _text(level: int, v: PairValues, lang: str) -> str:
    key = "hours.within" if level == 2 else "hours.over"
    return t(key, lang, hours=num(v["hours"], lang), max_hours=num(v["max_hours"], lang))


fit = Criterion(
    name="hours",
    levels=FIT,
    level=_level,
    values=_values,
    reason=_text,
    description="weekly hours above the participant's maximum",
)

CRITERIA = [fit]
