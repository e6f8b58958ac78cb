"""Hours fit: the opening's weekly hours against the most the participant can work."""
from __future__ import annotations

from matching.criteria.base import Criterion, Evaluation, bin_levels, num
from matching.pairs import Pairs


def _evaluate(pairs: Pairs) -> Evaluation:
    hours = pairs.ocol("hours_per_week").astype(float)
    limit = pairs.pcol("max_hours_per_week").astype(float)
    over = hours - limit
    return Evaluation(bin_levels(over, [10.0, 0.0], "decreasing"), {"hours": hours, "max_hours": limit})


def _text(level: int, v, lang: str) -> str:
    hs, ms = num(v["hours"], lang), num(v["max_hours"], lang)
    if level == 2:
        return f"{hs} h/week, within the wish of at most {ms}" if lang == "en" else f"{hs} t/uke, innenfor ønsket maks {ms}"
    return f"{hs} h/week, more than the {ms} wanted" if lang == "en" else f"{hs} t/uke, mer enn ønsket maks {ms}"


fit = Criterion(
    name="hours",
    levels=(
        {"nb": "over 10 t mer enn ønsket", "en": "over 10 h above the wish"},
        {"nb": "inntil 10 t mer enn ønsket", "en": "up to 10 h above the wish"},
        {"nb": "innenfor ønsket", "en": "within the wish"},
    ),
    evaluate=_evaluate,
    reason=_text,
    direction="decreasing",
    description="weekly hours above the participant's maximum",
)

CRITERIA = [fit]
