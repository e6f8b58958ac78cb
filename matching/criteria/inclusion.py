"""Employer inclusion record: how often past trial placements there ended in a hire.

Smoothed towards a prior (PRIOR_RATE, weight PRIOR_WEIGHT trials) so that an employer with
one trial and one hire does not outrank one with 40 trials and 20 hires.
"""

from __future__ import annotations

import numpy as np

from matching.criteria.base import Criterion, Levels, PairValues, Values, t
from matching.pairs import Pairs

#: The smoothed hire rate in bands of 5 points around the prior, so employers whose records
#: differ are told apart (they were three levels, and many lists had openings tied on them);
#: neutral: 25–35 %, the prior (no trials yet) and a record such as "0 of 1" or "7 of 22".
RECORD = Levels.from_thresholds("inclusion", [0.2, 0.25, 0.35, 0.4, 0.45, 0.5], neutral=2)
#: The three levels before, kept so models trained on them (and the runs they scored) still
#: load and explain: their "inclusion" is read as `inclusion_thirds`.
THIRDS = Levels.from_thresholds("inclusion_thirds", [0.25, 0.4], neutral=1)
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
    opening_only=True,
)

thirds = Criterion(
    name="inclusion_thirds",
    levels=THIRDS,
    level=lambda pairs: THIRDS.bin(smoothed_rate(*_counts(pairs))),
    values=_values,
    reason=_text,
    description="smoothed share of past trial placements that ended in a hire (three levels; models before finer levels)",
    opening_only=True,
)

CRITERIA = [record]
LEGACY = [thirds]
