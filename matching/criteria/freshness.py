"""How long the opening has been listed: employers read the first applications, advisers the new listings.

An employer screens the applications that come in during a listing's first days, and an
opening listed for months has often been filled or given up on, above all one without an
application deadline ("snarest"): nothing closes it, and its status is only as fresh as the
employer's last word. Levels, by days since the opening was published (on "today", the
suggestion date in training), worst first: more than 60 days (the neutral level: an old
listing is no minus, only not a plus), 31–60, 15–30, 8–14, at most 7.

The weight is learned, so a world where a listing's age makes no difference learns about 0.
It reads the opening only: nothing about the participant, their needs or their home.

Chosen on the validation quarter of the training period (benchmarks/validation_variants.py,
national 50k × 10k, seed 2013): full-ranking recall@10 0.599 → 0.674; +0.036 of that among
openings with a deadline alone (known to be open on the day), +0.025 among those without.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from matching.criteria.base import Criterion, Levels, PairValues, Values, cached, t
from matching.pairs import Pairs
from matching.world import Openings

#: Days listed, thresholds worst → best (value <= threshold lifts a level).
DAYS_LISTED = Levels.from_thresholds("freshness", [60, 30, 14, 7], "decreasing")


def _published(openings: Openings) -> np.ndarray:
    """Each opening's publication date as a proleptic ordinal, once per openings table."""

    def build() -> np.ndarray:
        return np.array(
            [
                d.toordinal() if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10]).toordinal()
                for d in openings.frame["published_at"]
            ],
            dtype=np.int64,
        )

    return cached(openings, "_published_ord", build)


def _days(pairs: Pairs) -> np.ndarray:
    # published later than "today" (a posted opening dated ahead): listed 0 days
    return np.maximum(pairs.as_of - _published(pairs.world.openings)[pairs.o], 0)


def _values(pairs: Pairs) -> Values:
    return {"days": _days(pairs), "published": _published(pairs.world.openings)[pairs.o]}


def _on_day(v: PairValues, day: int) -> PairValues:
    """One pair's values on another day: the publication date stays, the days listed move."""
    return {**v, "days": max(int(day) - int(v["published"]), 0)}


def _text(level: int, v: PairValues, lang: str) -> str:
    date, days = dt.date.fromordinal(int(v["published"])).isoformat(), int(v["days"])
    return t({0: "freshness.today", 1: "freshness.day_one"}.get(days, "freshness.days"), lang, days=days, date=date)


def _shown(v: PairValues, lang: str) -> dict[str, int | str]:
    """The publication date as an ISO date, never a day number."""
    return {"days": int(v["days"]), "published": dt.date.fromordinal(int(v["published"])).isoformat()}


freshness = Criterion(
    name="freshness",
    levels=DAYS_LISTED,
    level=lambda pairs: DAYS_LISTED.bin(_days(pairs)),
    values=_values,
    reason=_text,
    description="days since the opening was published, from today (or the suggestion date in training)",
    level_of_values=lambda v: DAYS_LISTED.bin(np.asarray(v["days"])),
    # listed for over two months: no plus, and nothing to headline
    uninformative=lambda v: int(v["days"]) > 60,
    shown_values=_shown,
    on_day=_on_day,
    opening_only=True,
)

CRITERIA = [freshness]
