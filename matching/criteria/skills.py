"""Skill coverage: the share of the opening's required skills the participant has.

An opening that asks for no particular skill is fully covered; optional skills are quoted
in the reason but do not move the level (they are wishes, not requirements).
"""
from __future__ import annotations

import numpy as np

from matching.criteria.base import Criterion, Evaluation, bin_levels
from matching.pairs import Pairs


def _rowwise_overlap(a, b) -> np.ndarray:
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


def _evaluate(pairs: Pairs) -> Evaluation:
    w = pairs.world
    ps = w.participant_skills[pairs.p]
    req = w.required_skills[pairs.o]
    opt = w.optional_skills[pairs.o]
    n_req = np.asarray(req.sum(axis=1)).ravel()
    covered = _rowwise_overlap(ps, req)
    coverage = np.where(n_req > 0, covered / np.maximum(n_req, 1), 1.0)
    level = bin_levels(coverage, [0.25, 0.5, 0.75, 1.0 - 1e-9], "increasing")
    return Evaluation(level, {"covered": covered, "required": n_req,
                              "optional_covered": _rowwise_overlap(ps, opt)})


def _text(level: int, v, lang: str) -> str:
    cov, req, opt = int(v["covered"]), int(v["required"]), int(v["optional_covered"])
    if req == 0:
        base = "No specific skills required" if lang == "en" else "Ingen særskilte krav til ferdigheter"
    elif lang == "en":
        base = f"Has {cov} of {req} required skills"
    else:
        base = f"Har {cov} av {req} ferdigheter som kreves"
    if opt:
        base += f" (+{opt} desirable)" if lang == "en" else f" (+{opt} ønskede)"
    return base


coverage = Criterion(
    name="skills",
    levels=(
        {"nb": "under 25 % av kravene", "en": "under 25 % of requirements"},
        {"nb": "25–50 %", "en": "25–50 %"},
        {"nb": "50–75 %", "en": "50–75 %"},
        {"nb": "75–99 %", "en": "75–99 %"},
        {"nb": "alle krav", "en": "all requirements"},
    ),
    evaluate=_evaluate,
    reason=_text,
    description="share of required skills covered",
)

CRITERIA = [coverage]
