"""Occupation proximity on the STYRK-08 hierarchy, and experience in the opening's field.

Proximity is the number of leading STYRK digits the opening's code shares with the closest
occupation the participant wants (4 = the same occupation); experience counts years in the
opening's 3-digit minor group, so related work counts, not only the exact title.
"""
from __future__ import annotations

import numpy as np

from matching.criteria.base import Criterion, Evaluation, bin_levels, num
from matching.pairs import Pairs
from matching.taxonomy import occupations


def shared_digits(codes: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Leading STYRK digits shared between target[i] and the best of codes[i, :] (-1 = pad)."""
    target = target[:, None]
    valid = codes >= 0
    digits = np.zeros(codes.shape, dtype=np.int64)
    for div in (1000, 100, 10, 1):
        digits += valid & (codes // div == target // div)
    return digits.max(axis=1) if codes.shape[1] else np.zeros(len(target), dtype=np.int64)


def _proximity(pairs: Pairs) -> Evaluation:
    codes = pairs.world.participants.desired_codes[pairs.p]
    target = pairs.world.openings.code[pairs.o]
    digits = shared_digits(codes, target)
    return Evaluation(digits, {"shared_digits": digits, "opening_code": target, "title": pairs.ocol("title")})


def _occ_name(code: int) -> str:
    return occupations.name(f"{int(code):04d}")


def _proximity_text(level: int, v, lang: str) -> str:
    job = f"{v['title']} ({_occ_name(v['opening_code']).lower()})"
    nb = [f"{job} er langt fra ønskede yrker", f"{job} er i samme hovedgruppe som et ønsket yrke",
          f"{job} er i samme yrkesområde som et ønsket yrke", f"{job} er nært beslektet med et ønsket yrke",
          f"Ønsket yrke: {job}"]
    en = [f"{job} is far from the desired occupations", f"{job} is in the same major group as a desired occupation",
          f"{job} is in the same field as a desired occupation", f"{job} is closely related to a desired occupation",
          f"Desired occupation: {job}"]
    return (en if lang == "en" else nb)[level]

proximity = Criterion(
    name="occupation",
    levels=(
        {"nb": "ulikt yrkesfelt", "en": "different field"},
        {"nb": "samme hovedgruppe", "en": "same major group"},
        {"nb": "samme undergruppe", "en": "same sub-major group"},
        {"nb": "samme yrkesgruppe", "en": "same minor group"},
        {"nb": "samme yrke", "en": "same occupation"},
    ),
    evaluate=_proximity,
    reason=_proximity_text,
    description="STYRK-08 digits shared with the closest desired occupation",
)


def _experience(pairs: Pairs) -> Evaluation:
    codes, years = pairs.world.participants.experience
    codes, years = codes[pairs.p], years[pairs.p]
    target = pairs.world.openings.code[pairs.o][:, None]
    in_group = (codes >= 0) & (codes // 10 == target // 10)
    total = (years * in_group).sum(axis=1) if codes.shape[1] else np.zeros(len(pairs))
    return Evaluation(bin_levels(total, [0.01, 1.0, 3.0], "increasing"),
                      {"years": total, "opening_code": target[:, 0]})


def _experience_text(level: int, v, lang: str) -> str:
    occ = _occ_name(v["opening_code"]).lower()
    years = float(v["years"])
    if level == 0:
        return f"No experience in this field ({occ})" if lang == "en" else f"Ingen erfaring innen feltet ({occ})"
    yrs = num(years, lang)
    return f"{yrs} years of experience in the field ({occ})" if lang == "en" else f"{yrs} års erfaring innen feltet ({occ})"


experience = Criterion(
    name="experience",
    levels=(
        {"nb": "ingen erfaring", "en": "no experience"},
        {"nb": "under 1 år", "en": "under 1 year"},
        {"nb": "1–3 år", "en": "1–3 years"},
        {"nb": "3 år eller mer", "en": "3 years or more"},
    ),
    evaluate=_experience,
    reason=_experience_text,
    description="years of experience in the opening's STYRK-08 minor group",
)

CRITERIA = [proximity, experience]
