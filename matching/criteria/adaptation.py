"""Adaptation coverage: the share of the participant's needs the workplace offers.

Depends only on coverage, never on how many needs someone has; a participant with no needs
has coverage 1, the same level as one whose every need is covered. Adding a need the
opening covers therefore never lowers a score.

The reason names needs, which is health data. In the employer-facing view (an opening's
candidates) a participant who has not consented to share needs is *not assessed* on this
criterion: level `not_assessed_level`, contribution 0, and a reason that says only that
needs are not shared — computed without their needs (which that view does not hold), so no
score, rank or text an employer-facing reader sees can depend on them.
"""

from __future__ import annotations

import numpy as np

from matching.criteria.base import Criterion, Levels, PairValues, Values, t
from matching.pairs import Pairs
from matching.taxonomy import adaptations
from matching.world import NEED_CODES

COVERAGE = Levels.from_thresholds("adaptation", [0.5, 1.0 - 1e-9], neutral=2)  # no needs, or all covered


def _masks(pairs: Pairs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(needs, covered needs, assessed) per pair; the masks of a pair not assessed are 0."""
    needs = pairs.world.participants.need_mask[pairs.p]
    covered = needs & pairs.world.openings.offered_mask[pairs.o]
    assessed = pairs.world.participants.needs_assessed[pairs.p]
    if not assessed.all():
        needs, covered = np.where(assessed, needs, 0), np.where(assessed, covered, 0)
    return needs, covered, assessed


def _level(pairs: Pairs) -> np.ndarray:
    """``COVERAGE.bin(covered / needs)`` (1 with no needs) in integers: with at most
    len(NEED_CODES) needs, the share is >= 1 - 1e-9 only when every need is covered, and
    >= 0.5 exactly when twice the covered needs are at least the needs (tests/test_levels.py)."""
    w = pairs.world
    needs = w.participants.need_mask[pairs.p]
    covered = needs & w.openings.offered_mask[pairs.o]
    level = (covered == needs).view(np.uint8)
    level += (np.bitwise_count(covered) << 1) >= np.bitwise_count(needs)
    assessed = w.participants.needs_assessed[pairs.p]
    return level if assessed.all() else np.where(assessed, level, np.uint8(coverage.not_assessed_level))


def _values(pairs: Pairs) -> Values:
    needs, covered, _ = _masks(pairs)
    return {"needs_mask": needs, "covered_mask": covered}


def codes_in(mask: int) -> list[str]:
    return [code for i, code in enumerate(NEED_CODES) if int(mask) >> i & 1]


def _text(level: int, v: PairValues, lang: str) -> str:
    needs, covered = codes_in(v["needs_mask"]), codes_in(v["covered_mask"])
    if not needs:
        return t("adaptation.no_needs", lang)
    missing = [c for c in needs if c not in covered]

    def names(codes: list[str]) -> str:
        return ", ".join(adaptations.label(c, lang).lower() for c in codes)

    if not missing:
        return t("adaptation.all_covered", lang, covered=names(covered))
    return t("adaptation.some_missing", lang, n_covered=len(covered), n_needs=len(needs), missing=names(missing))


def _shown(v: PairValues, lang: str) -> dict[str, list[str]]:
    """The needs and the covered ones as taxonomy codes (strings), never the bit masks."""
    return {"needs": codes_in(v["needs_mask"]), "covered": codes_in(v["covered_mask"])}


coverage = Criterion(
    name="adaptation",
    levels=COVERAGE,
    level=_level,
    values=_values,
    reason=_text,
    description="share of adaptation needs the employer/opening offers (no needs = 1)",
    sensitive=True,
    not_assessed="adaptation.not_assessed",
    uninformative=lambda v: int(v["needs_mask"]) == 0,
    shown_values=_shown,
)

CRITERIA = [coverage]
