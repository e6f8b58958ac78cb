"""Hours fit: the opening's weekly hours against what the participant wishes to work.

``fit`` (criterion ``hours_fit``) reads the whole wish, worst level first:

0. far from the wish — a full-time seeker (``wants_part_time`` false) offered a part-time
   job (under ``PART_TIME_BELOW`` h/week), or more than ``STEP_UP`` h above the most
   the participant can work;
1. somewhat off — a full-time seeker offered ``PART_TIME_BELOW`` h or more but less than full
   time (their maximum, at most ``FULL_TIME``), or up to ``STEP_UP`` h above their maximum;
2. a step up — a part-time seeker offered up to ``STEP_UP`` h above their current maximum:
   gradual increase (*gradvis opptrapping*) is how part-time work often grows, not a failure;
3. as wished — within a part-time seeker's maximum, or full time for a full-time seeker.

``legacy`` (criterion ``hours``: hours above the maximum only, three levels) is kept so
models trained before ``hours_fit`` existed still score and explain their stored lists; it is
not in ``criteria.ALL``, so a model trained now does not use it.
"""

from __future__ import annotations

import numpy as np

from matching.criteria.base import Criterion, Levels, PairValues, Values, by_classes, num, t
from matching.pairs import Pairs

#: Under this many hours a week an opening is part-time for a full-time seeker.
PART_TIME_BELOW = 30.0
#: A full working week (the most a full-time seeker is asked to reach).
FULL_TIME = 37.5
#: Up to this many hours above a part-time seeker's maximum is a step up.
STEP_UP = 10.0

FIT = Levels.categories("hours_fit", 4, neutral=3)  # far off, off, a step up, as wished (neutral)
FAR, OFF, STEP, AS_WISHED = range(4)


def _hours(pairs: Pairs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        pairs.ocol("hours_per_week").astype(float),
        pairs.pcol("max_hours_per_week").astype(float),
        pairs.pcol("wants_part_time").astype(bool),
    )


def _fit_level(hours: np.ndarray, limit: np.ndarray, part_time: np.ndarray) -> np.ndarray:
    over = hours - limit
    short = ~part_time & (hours < np.minimum(limit, FULL_TIME))
    level = np.full(hours.shape, AS_WISHED, dtype=np.int64)
    level[over > 0] = np.where(part_time, STEP, OFF)[over > 0]
    level[short] = OFF
    level[(over > STEP_UP) | (short & (hours < PART_TIME_BELOW))] = FAR
    return level


def _fit_values(pairs: Pairs) -> Values:
    hours, limit, part_time = _hours(pairs)
    return {"hours": hours, "max_hours": limit, "part_time": part_time}


def _fit_text(level: int, v: PairValues, lang: str) -> str:
    hours, limit = float(v["hours"]), float(v["max_hours"])
    fields = {"hours": num(hours, lang), "max_hours": num(limit, lang)}
    if hours > limit:
        key = "hours_fit.step_up" if level == STEP else "hours_fit.over"
        return t(key, lang, over=num(hours - limit, lang), **fields)
    if bool(v["part_time"]):
        return t("hours_fit.as_wished_part", lang, **fields)
    return t("hours_fit.short" if level < AS_WISHED else "hours_fit.as_wished_full", lang, **fields)


def _fit_level_of_pairs(pairs: Pairs) -> np.ndarray:
    """`_fit_level` of every pair, from a table of the participants' (maximum, part-time) ×
    the openings' hours (`base.by_classes`: 5 × 8 classes nationally)."""
    participants, openings = pairs.world.participants, pairs.world.openings
    return by_classes(
        pairs,
        "hours_fit",
        lambda: np.c_[participants.col("max_hours_per_week").astype(float), participants.col("wants_part_time").astype(bool)],
        lambda: openings.col("hours_per_week").astype(float),
        lambda p, o: _fit_level(o, p[:, 0], p[:, 1].astype(bool)),
    )


fit = Criterion(
    name="hours_fit",
    levels=FIT,
    level=_fit_level_of_pairs,
    values=_fit_values,
    reason=_fit_text,
    description="weekly hours against the wish: full or part time, the maximum, a step up for part-time seekers",
    level_of_values=lambda v: _fit_level(
        np.asarray(v["hours"], float), np.asarray(v["max_hours"], float), np.asarray(v["part_time"], bool)
    ),
)

# ---------------------------------------------------------------------------- legacy (older models)

LEGACY_FIT = Levels.from_thresholds("hours", [10.0, 0.0], "decreasing", neutral=2)  # hours above the wish


def _legacy_values(pairs: Pairs) -> Values:
    hours, limit, _ = _hours(pairs)
    return {"hours": hours, "max_hours": limit}


def _legacy_text(level: int, v: PairValues, lang: str) -> str:
    key = "hours.within" if level == 2 else "hours.over"
    return t(key, lang, hours=num(v["hours"], lang), max_hours=num(v["max_hours"], lang))


legacy = Criterion(
    name="hours",
    levels=LEGACY_FIT,
    level=lambda pairs: LEGACY_FIT.bin(np.subtract(*_hours(pairs)[:2])),
    values=_legacy_values,
    reason=_legacy_text,
    description="weekly hours above the participant's maximum (models trained before hours_fit)",
)

CRITERIA = [fit]
LEGACY = [legacy]
