"""Time left to apply: a deadline next week leaves little room to arrange adaptations."""

from __future__ import annotations

import datetime as dt

import numpy as np

from matching.criteria.base import Criterion, Levels, PairValues, Values, t
from matching.pairs import Pairs

TIME_LEFT = Levels.from_thresholds("deadline", [7, 30], neutral=2)  # days; neutral: time enough
NO_DEADLINE_DAYS = 365


def _left(deadline, has, as_of):
    """Days left to a deadline (ordinal) on day `as_of` (ordinal); NO_DEADLINE_DAYS without one."""
    return np.where(has, deadline - as_of, NO_DEADLINE_DAYS)


def _days(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """(days left, deadline ordinal or 0 for none) per pair."""
    deadline = pairs.world.openings.deadline_ord[pairs.o]
    has = deadline < 10**7
    return _left(deadline, has, pairs.as_of), np.where(has, deadline, 0)


def _on_day(v: PairValues, day: int) -> PairValues:
    """One pair's values on another day: the deadline stays, the days left move."""
    deadline = int(v["deadline"])
    return {**v, "days": int(_left(deadline, deadline != 0, day))}


def _values(pairs: Pairs) -> Values:
    days, deadline = _days(pairs)
    return {"days": days, "deadline": deadline}


def _text(level: int, v: PairValues, lang: str) -> str:
    if int(v["deadline"]) == 0:
        return t("deadline.none", lang)
    date, days = dt.date.fromordinal(int(v["deadline"])).isoformat(), int(v["days"])
    return t({0: "deadline.today", 1: "deadline.day_one"}.get(days, "deadline.in_days"), lang, days=days, date=date)


def _shown(v: PairValues, lang: str) -> dict[str, int | str | None]:
    """The deadline as an ISO date (None: no deadline), never a day number."""
    if int(v["deadline"]) == 0:
        return {"days": None, "deadline": None}
    return {"days": int(v["days"]), "deadline": dt.date.fromordinal(int(v["deadline"])).isoformat()}


time_left = Criterion(
    name="deadline",
    levels=TIME_LEFT,
    level=lambda pairs: TIME_LEFT.bin(_days(pairs)[0]),
    values=_values,
    reason=_text,
    description="days from today (or the suggestion date in training) to the application deadline",
    shown_values=_shown,
    on_day=_on_day,
    opening_only=True,
)

CRITERIA = [time_left]
