"""Time left to apply: a deadline next week leaves little room to arrange adaptations."""
from __future__ import annotations

import datetime as dt

import numpy as np

from matching.criteria.base import Criterion, Evaluation, bin_levels
from matching.pairs import Pairs

NO_DEADLINE_DAYS = 365


def _evaluate(pairs: Pairs) -> Evaluation:
    deadline = pairs.world.openings.deadline_ord[pairs.o]
    has = deadline < 10**7
    days = np.where(has, deadline - pairs.as_of, NO_DEADLINE_DAYS)
    return Evaluation(bin_levels(days, [7, 30], "increasing"),
                      {"days": days, "deadline": np.where(has, deadline, 0)})


def _text(level: int, v, lang: str) -> str:
    if int(v["deadline"]) == 0:
        return "No application deadline" if lang == "en" else "Ingen søknadsfrist"
    days, date = int(v["days"]), dt.date.fromordinal(int(v["deadline"])).isoformat()
    return f"Application deadline in {days} days ({date})" if lang == "en" else f"Søknadsfrist om {days} dager ({date})"


time_left = Criterion(
    name="deadline",
    levels=(
        {"nb": "under en uke", "en": "under a week"},
        {"nb": "1–4 uker", "en": "1–4 weeks"},
        {"nb": "over 4 uker eller ingen frist", "en": "over 4 weeks or no deadline"},
    ),
    evaluate=_evaluate,
    reason=_text,
    description="days from today (or the suggestion date in training) to the application deadline",
)

CRITERIA = [time_left]
