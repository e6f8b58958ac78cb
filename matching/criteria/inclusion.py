"""Employer inclusion record: how often past trial placements there ended in a hire.

Smoothed towards a prior (PRIOR_RATE, weight PRIOR_WEIGHT trials) so that an employer with
one trial and one hire does not outrank one with 40 trials and 20 hires.
"""

from __future__ import annotations

import numpy as np

from matching.criteria.base import Criterion, Levels, PairValues, Values, t
from matching.pairs import Pairs

RECORD = Levels.from_thresholds("inclusion", [0.25, 0.4], neutral=1)  # smoothed hire rate; neutral: the prior
PRIOR_RATE = 0.3
PRIOR_WEIGHT = 5.0


def smoothed_rate(hires, trials):
    return (hires + PRIOR_RATE * PRIOR_WEIGHT) / (trials + PRIOR_WEIGHT)


def _counts(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    return pairs.ocol("past_hires_after_trial").astype(float), pairs.ocol("past_trial_placements").astype(float)


def _values(pairs: Pairs) -> Values:
    hires, trials = _counts(pairs)
    return {"hires": hires, "trials": trials, "ia": pairs.ocol("inclusive_workplace_agreement").astype(bool)}


def _text(level: int, v: PairValues, lang: str) -> str:
    hires, trials = int(v["hires"]), int(v["trials"])
    text = t("inclusion.no_trials", lang) if trials == 0 else t("inclusion.hired", lang, hires=hires, trials=trials)
    return t("inclusion.ia_agreement", lang, text=text) if bool(v["ia"]) else text


record = Criterion(
    name="inclusion",
    levels=RECORD,
    level=lambda pairs: RECORD.bin(smoothed_rate(*_counts(pairs))),
    values=_values,
    reason=_text,
    description="smoothed share of past trial placements that ended in a hire",
)

CRITERIA = [record]
