"""Employer inclusion record: how often past trial placements there ended in a hire.

Smoothed towards a prior (PRIOR_RATE, weight PRIOR_WEIGHT trials) so that an employer with
one trial and one hire does not outrank one with 40 trials and 20 hires.
"""
from __future__ import annotations

from matching.criteria.base import Criterion, Evaluation, bin_levels
from matching.pairs import Pairs

PRIOR_RATE = 0.3
PRIOR_WEIGHT = 5.0


def smoothed_rate(hires, trials):
    return (hires + PRIOR_RATE * PRIOR_WEIGHT) / (trials + PRIOR_WEIGHT)


def _evaluate(pairs: Pairs) -> Evaluation:
    hires = pairs.ocol("past_hires_after_trial").astype(float)
    trials = pairs.ocol("past_trial_placements").astype(float)
    ia = pairs.ocol("inclusive_workplace_agreement").astype(bool)
    rate = smoothed_rate(hires, trials)
    return Evaluation(bin_levels(rate, [0.25, 0.4], "increasing"),
                      {"hires": hires, "trials": trials, "ia": ia})


def _text(level: int, v, lang: str) -> str:
    hires, trials, ia = int(v["hires"]), int(v["trials"]), bool(v["ia"])
    if trials == 0:
        base = "No trial placements with this employer yet" if lang == "en" else "Ingen arbeidstreninger hos arbeidsgiveren ennå"
    elif lang == "en":
        base = f"The employer hired {hires} of {trials} people after a trial placement"
    else:
        base = f"Arbeidsgiveren har ansatt {hires} av {trials} etter arbeidstrening"
    if ia:
        base += " (inclusive-workplace agreement)" if lang == "en" else " (IA-avtale)"
    return base


record = Criterion(
    name="inclusion",
    levels=(
        {"nb": "svak inkluderingshistorikk", "en": "weak inclusion record"},
        {"nb": "middels inkluderingshistorikk", "en": "average inclusion record"},
        {"nb": "sterk inkluderingshistorikk", "en": "strong inclusion record"},
    ),
    evaluate=_evaluate,
    reason=_text,
    description="smoothed share of past trial placements that ended in a hire",
)

CRITERIA = [record]
