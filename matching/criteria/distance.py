"""Commute distance relative to the participant's own limit.

Relative, not absolute: 20 km is easy for someone who accepts 60 km and at the edge for
someone who said 20. Pairs beyond the limit never reach ranking (hard constraint); in
training data they fall into the worst level.
"""
from __future__ import annotations

from matching.criteria.base import Criterion, Evaluation, bin_levels, num
from matching.pairs import Pairs


def _evaluate(pairs: Pairs) -> Evaluation:
    km = pairs.distance_km
    limit = pairs.pcol("max_commute_km").astype(float)
    ratio = km / limit
    return Evaluation(bin_levels(ratio, [0.75, 0.5, 0.25], "decreasing"), {"km": km, "limit": limit})


def _text(level: int, v, lang: str) -> str:
    km = num(v["km"], lang, 1 if float(v["km"]) < 10 else 0)
    limit = num(v["limit"], lang, 0)
    return f"{km} km from home (limit {limit} km)" if lang == "en" else f"{km} km fra bosted (grense {limit} km)"

commute = Criterion(
    name="distance",
    levels=(
        {"nb": "over 75 % av grensen", "en": "over 75 % of the limit"},
        {"nb": "50–75 % av grensen", "en": "50–75 % of the limit"},
        {"nb": "25–50 % av grensen", "en": "25–50 % of the limit"},
        {"nb": "under 25 % av grensen", "en": "under 25 % of the limit"},
    ),
    evaluate=_evaluate,
    reason=_text,
    direction="decreasing",
    description="distance from home as a share of the participant's max commute",
)

CRITERIA = [commute]
