"""Commute distance relative to the participant's own limit.

Distances are straight lines ("luftlinje") between postal-code centres, and the reasons say
so; a pair in the same postal code reads "same postal code", not "0 km".

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

from matching.criteria.base import Criterion, Levels, PairValues, Values, cached, num, t
from matching.pairs import Pairs
from matching.world import World

#: Distance as a share of the participant's limit, in steps of 5 % (20 levels, the edge of the
#: limit first, the neutral level). Fine enough that openings a few kilometres apart do not
#: all share one level; the trainer's smoothing (`scoring.fit`) keeps neighbouring steps close
#: where the history says little about one of them.
SHARE_OF_LIMIT = Levels.from_thresholds("distance", [round(1 - i / 20, 2) for i in range(1, 20)], "decreasing")
#: The levels before (quarters of the limit), kept so models trained on them (and the runs
#: they scored) still load and explain: their "distance" is read as `distance_quarters`.
QUARTERS = Levels.from_thresholds("distance_quarters", [0.75, 0.5, 0.25], "decreasing")
#: The grid of distances an employer-facing reason may quote (km).
BAND_EDGES = np.array([0.0, 5.0, 15.0, 30.0, np.inf])


def _share(pairs: Pairs) -> np.ndarray:
    # from the home, or from the centre of the home area in the employer view
    return pairs.distance_km / pairs.pcol("max_commute_km").astype(float)


def _level(pairs: Pairs) -> np.ndarray:
    return SHARE_OF_LIMIT.bin(_share(pairs))


def _values(pairs: Pairs) -> Values:
    limit = pairs.pcol("max_commute_km").astype(float)
    km = pairs.distance_km
    if not pairs.world.participants.located_by_area:
        # the adviser's view: the home's own postal code (an employer-facing one never has it)
        p_code, o_code = _postal_codes(pairs.world)
        same = p_code[pairs.p] == o_code[pairs.o]
        return {"km": km, "limit": limit, "postal_code_shared": same}
    radius = pairs.world.participants.area_radius_km[pairs.p]
    lo, hi = band_edges(km - radius, km + radius)
    return {"km": km, "limit": limit, "band_lo": lo, "band_hi": hi}


def _postal_codes(world: World) -> tuple[np.ndarray, np.ndarray]:
    """(participant, opening) postal codes as numbers in the openings' sorted codes, so that
    equal numbers are equal codes (compared as text); a participant's code no opening has is
    -1. Once per snapshot (the openings' once per openings table): comparing the texts per
    quoted pair was most of the distance values' time in a batch."""

    def openings() -> tuple[np.ndarray, np.ndarray]:
        vocab, at = np.unique(world.openings.col("postal_code").astype(str), return_inverse=True)
        return vocab, at.reshape(-1).astype(np.int64)

    def build() -> tuple[np.ndarray, np.ndarray]:
        vocab, o = cached(world.openings, "_postal_vocab", openings)
        p = world.participants.col("postal_code").astype(str)
        at = np.minimum(np.searchsorted(vocab, p), max(len(vocab) - 1, 0))
        known = (vocab[at] == p) if len(vocab) else np.zeros(len(p), dtype=bool)
        return np.where(known, at, -1).astype(np.int64), o

    return cached(world, "_postal_codes", build)


def band_edges(near: np.ndarray, far: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The narrowest band of the grid that holds [near, far]: the distance of every home in
    the area, so whichever home is the real one, the band is true of it — and the band is
    the same for all of them, so intersecting bands cannot single one out."""
    lo = BAND_EDGES[np.searchsorted(BAND_EDGES, np.maximum(near, 0.0), side="right") - 1]
    hi = BAND_EDGES[np.searchsorted(BAND_EDGES, far, side="left")]
    return lo, hi


def band(lo: float, hi: float, lang: str = "nb") -> str:
    """ "under 5 km", "5–15 km", "over 30 km", "" for no bound at all."""
    if lo <= 0 and hi == np.inf:
        return ""
    if lo <= 0:
        return t("distance.band_under", lang, hi=f"{hi:.0f}")
    if hi == np.inf:
        return t("distance.band_over", lang, lo=f"{lo:.0f}")
    return t("distance.band_between", lang, lo=f"{lo:.0f}", hi=f"{hi:.0f}")


def _text(level: int, v: PairValues, lang: str) -> str:
    if "band_lo" in v:
        b = band(float(v["band_lo"]), float(v["band_hi"]), lang)
        return t("distance.lives", lang, band=b) if b else t("distance.not_stated", lang)
    limit = num(v["limit"], lang, 0)
    if bool(v.get("postal_code_shared")):  # distances run between postal-code centres: 0 km says only this
        return t("distance.same_postal_code", lang, limit=limit)
    km = num(v["km"], lang, 1 if float(v["km"]) < 10 else 0)
    return t("distance.km", lang, km=km, limit=limit)


commute = Criterion(
    name="distance",
    levels=SHARE_OF_LIMIT,
    level=_level,
    values=_values,
    reason=_text,
    description="distance from home as a share of the participant's max commute",
)

quarters = Criterion(
    name="distance_quarters",
    levels=QUARTERS,
    level=lambda pairs: QUARTERS.bin(_share(pairs)),
    values=_values,
    reason=_text,
    description="distance from home as a share of the participant's max commute (quarters; models before 20 levels)",
)

CRITERIA = [commute]
LEGACY = [quarters]
