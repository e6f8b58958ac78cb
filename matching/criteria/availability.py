"""Availability: when the participant can start against when the opening starts.

Both dates are taken from "today" (the suggestion date in training) on: a participant without
an ``available_from`` date, or with one already past, is available today; a start date already
past means "as soon as possible", i.e. today. Levels, worst first:

0. later — available more than ``GRACE_DAYS`` days after the start;
1. shortly after — available after the start, within ``GRACE_DAYS`` days;
2. no start date — the opening states none (start by agreement): nothing to compare, neutral;
3. by the start — available on or before the start date.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from matching.criteria.base import Criterion, Levels, PairValues, Values, by_classes, t
from matching.pairs import Pairs

GRACE_DAYS = 28
TIMING = Levels.categories("availability", 4, neutral=2)  # neutral: no start date
LATER, SHORTLY_AFTER, NO_START, BY_START = range(4)


def _dates(pairs: Pairs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(available ordinal or 0, start ordinal or 0, days available after the start) per pair,
    the days counted from today on (see the module docstring)."""
    available = pairs.world.participants.available_ord[pairs.p]
    start = pairs.world.openings.start_ord[pairs.o]
    late = np.maximum(available, pairs.as_of) - np.maximum(start, pairs.as_of)
    return available, start, late


def _level_of(start: np.ndarray, late: np.ndarray) -> np.ndarray:
    level = np.where(late <= 0, BY_START, np.where(late <= GRACE_DAYS, SHORTLY_AFTER, LATER))
    return np.where(np.asarray(start) == 0, NO_START, level).astype(np.int64)


def _values(pairs: Pairs) -> Values:
    available, start, late = _dates(pairs)
    return {"available_from": available, "start": start, "days_after_start": late}


def _on_day(v: PairValues, day: int) -> PairValues:
    """One pair's values on another day: the dates stay, the days after the start move (as in
    `_dates`: counted from that day on)."""
    available, start = int(v["available_from"]), int(v["start"])
    return {**v, "days_after_start": max(available, day) - max(start, day)}


def _date(ordinal: int) -> str:
    return dt.date.fromordinal(int(ordinal)).isoformat()


def _shown(v: PairValues, lang: str) -> dict[str, int | str | None]:
    """Dates as ISO dates (None: no date given), never day numbers."""
    available, start = int(v["available_from"]), int(v["start"])
    return {
        "available_from": _date(available) if available else None,
        "start": _date(start) if start else None,
        "days_after_start": int(v["days_after_start"]) if start else None,
    }


def _text(level: int, v: PairValues, lang: str) -> str:
    available, start, late = int(v["available_from"]), int(v["start"]), int(v["days_after_start"])
    if level == NO_START:
        return t("availability.no_start", lang)
    if late > 0:
        return t("availability.after_start", lang, available=_date(available), start=_date(start), days=late)
    if available == 0:
        return t("availability.now", lang, start=_date(start))
    return t("availability.by_start", lang, available=_date(available), start=_date(start))


def _level(pairs: Pairs) -> np.ndarray:
    """`_level_of` every pair's dates. All pairs on one day (a ranking): from a table of the
    participants' availability × the openings' start, both moved to that day (dates before it
    count as it), `base.by_classes`; pairs on several days (training): the arithmetic."""
    as_of = pairs.as_of
    if not len(as_of) or not (as_of == as_of[0]).all():
        return _level_of(*_dates(pairs)[1:])
    day = int(as_of[0])
    w = pairs.world
    return by_classes(
        pairs,
        f"availability@{day}",
        lambda: np.maximum(w.participants.available_ord, day),
        lambda: np.where(w.openings.start_ord == 0, 0, np.maximum(w.openings.start_ord, day)),
        lambda available, start: _level_of(start, np.maximum(available, day) - np.maximum(start, day)),
    )


timing = Criterion(
    name="availability",
    levels=TIMING,
    level=_level,
    values=_values,
    reason=_text,
    description=f"the participant's available_from against the opening's start_date (grace {GRACE_DAYS} days)",
    level_of_values=lambda v: _level_of(np.asarray(v["start"]), np.asarray(v["days_after_start"])),
    shown_values=_shown,
    on_day=_on_day,
)

CRITERIA = [timing]
