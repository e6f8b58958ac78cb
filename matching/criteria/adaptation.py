"""Adaptation coverage: the share of the participant's needs the workplace offers.

Depends only on coverage, never on how many needs someone has; a participant with no needs
has coverage 1, the same level as one whose every need is covered. Adding a need the
opening covers therefore never lowers a score. The reason names needs, which is health
data: the liaison view gets `redacted_reason`, which says only whether needs are covered.
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
    coverage = np.where(n_needs > 0, n_cov / np.maximum(n_needs, 1), 1.0)
    return Evaluation(bin_levels(coverage, [0.5, 1.0 - 1e-9], "increasing"),
                      {"needs_mask": needs, "covered_mask": covered})


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


def _redacted(level: int, lang: str) -> str:
    en = ["The workplace's adaptation offer fits poorly", "The workplace's adaptation offer fits in part",
          "The workplace's adaptation offer fits"]
    nb = ["Arbeidsplassens tilretteleggingstilbud passer i liten grad",
          "Arbeidsplassens tilretteleggingstilbud passer delvis", "Arbeidsplassens tilretteleggingstilbud passer"]
    return (en if lang == "en" else nb)[level]


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
    redacted_reason=_redacted,
    uninformative=lambda v: int(v["needs_mask"]) == 0,
)

CRITERIA = [coverage]
