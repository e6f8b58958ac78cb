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

from matching.criteria.base import Criterion, Evaluation, bin_levels
from matching.pairs import Pairs
from matching.taxonomy import adaptations
from matching.world import NEED_CODES, popcount


def _evaluate(pairs: Pairs) -> Evaluation:
    needs = pairs.world.participants.need_mask[pairs.p]
    offered = pairs.world.openings.offered_mask[pairs.o]
    covered = needs & offered
    n_needs, n_cov = popcount(needs), popcount(covered)
    share = np.where(n_needs > 0, n_cov / np.maximum(n_needs, 1), 1.0)
    level = bin_levels(share, [0.5, 1.0 - 1e-9], "increasing")
    assessed = pairs.world.participants.needs_assessed[pairs.p]
    if not assessed.all():
        level = np.where(assessed, level, coverage.not_assessed_level)
        needs, covered = np.where(assessed, needs, 0), np.where(assessed, covered, 0)
    return Evaluation(level, {"needs_mask": needs, "covered_mask": covered})



def codes_in(mask: int) -> list[str]:
    return [code for i, code in enumerate(NEED_CODES) if int(mask) >> i & 1]


def _text(level: int, v, lang: str) -> str:
    needs, covered = codes_in(v["needs_mask"]), codes_in(v["covered_mask"])
    if not needs:
        return "No registered adaptation needs" if lang == "en" else "Ingen registrerte behov for tilrettelegging"
    missing = [c for c in needs if c not in covered]
    names = lambda codes: ", ".join(adaptations.label(c, lang).lower() for c in codes)  # noqa: E731
    if not missing:
        return (f"The workplace offers every adaptation needed: {names(covered)}" if lang == "en"
                else f"Arbeidsplassen tilbyr all tilrettelegging som trengs: {names(covered)}")
    if lang == "en":
        return f"Offers {len(covered)} of {len(needs)} adaptations needed; missing: {names(missing)}"
    return f"Tilbyr {len(covered)} av {len(needs)} behov for tilrettelegging; mangler: {names(missing)}"


coverage = Criterion(
    name="adaptation",
    levels=(
        {"nb": "under halvparten dekket", "en": "under half covered"},
        {"nb": "minst halvparten dekket", "en": "at least half covered"},
        {"nb": "alt dekket", "en": "all covered"},
    ),
    evaluate=_evaluate,
    reason=_text,
    description="share of adaptation needs the employer/opening offers (no needs = 1)",
    sensitive=True,
    not_assessed={"nb": "Behov for tilrettelegging er ikke delt med arbeidsgivere og inngår ikke i vurderingen",
                  "en": "Adaptation needs are not shared with employers and are not part of this assessment"},
    uninformative=lambda v: int(v["needs_mask"]) == 0,
)

CRITERIA = [coverage]
