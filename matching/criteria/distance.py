"""Commute distance relative to the participant's own limit.

Relative, not absolute: 20 km is easy for someone who accepts 60 km and at the edge for
someone who said 20. Pairs beyond the limit never reach ranking (hard constraint); in
training data they fall into the worst level.

In the employer-facing view (`Participants.employer_view`) participants stand at the centre
of their home area, and the reason gives the distance only as a band of a fixed grid that
holds the distance from *every* home in that area (`band_edges`), so it is true of the real
home, the same for all, and never a figure: intersecting bands across openings cannot
narrow a home below its area.
"""
from __future__ import annotations

import numpy as np

from matching.criteria.base import Criterion, Evaluation, bin_levels, num
from matching.pairs import Pairs


def _evaluate(pairs: Pairs) -> Evaluation:
    limit = pairs.pcol("max_commute_km").astype(float)
    km = pairs.distance_km
    if not pairs.world.participants.located_by_area:
        return Evaluation(bin_levels(km / limit, LEVELS, "decreasing"), {"km": km, "limit": limit})
    km = pairs.distance_km  # from the centre of the home area
    radius = pairs.world.participants.area_radius_km[pairs.p]
    lo, hi = band_edges(km - radius, km + radius)
    return Evaluation(bin_levels(km / limit, LEVELS, "decreasing"), {"km": km, "limit": limit, "band_lo": lo, "band_hi": hi})


LEVELS = [0.75, 0.5, 0.25]
#: The grid of distances an employer-facing reason may quote (km).
BAND_EDGES = np.array([0.0, 5.0, 15.0, 30.0, np.inf])


def band_edges(near: np.ndarray, far: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The narrowest band of the grid that holds [near, far]: the distance of every home in
    the area, so whichever home is the real one, the band is true of it — and the band is
    the same for all of them, so intersecting bands cannot single one out."""
    lo = BAND_EDGES[np.searchsorted(BAND_EDGES, np.maximum(near, 0.0), side="right") - 1]
    hi = BAND_EDGES[np.searchsorted(BAND_EDGES, far, side="left")]
    return lo, hi


def band(lo: float, hi: float) -> str:
    """"under 5 km", "5–15 km", "over 30 km", "" for no bound at all (same words in bokmål)."""
    if lo <= 0 and hi == np.inf:
        return ""
    if lo <= 0:
        return f"under {hi:.0f} km"
    if hi == np.inf:
        return f"over {lo:.0f} km"
    return f"{lo:.0f}–{hi:.0f} km"


def _text(level: int, v, lang: str) -> str:
    if "band_lo" in v:
        b = band(float(v["band_lo"]), float(v["band_hi"]))
        if lang == "en":
            return f"Lives {b} away" if b else "Distance from home not stated (a large home area)"
        return f"Bor {b} unna" if b else "Avstand fra bosted oppgis ikke (stort bostedsområde)"
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
