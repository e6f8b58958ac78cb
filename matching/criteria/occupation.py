"""Occupation proximity from real structure, and experience in the opening's field.

Proximity is the level of the closest occupation the participant wants to the opening's, from
:mod:`matching.taxonomy.proximity`: the STYRK-08 hierarchy, the ESCO core skills the two
occupations share and Swedish substitutability data, precomputed as a code × code table so a
pair costs two array lookups. The reason quotes the evidence that put the pair at its level.
Experience counts years in occupations the same table puts close to the opening's (same unit
group, same minor group, most core skills shared, or substitutable by the Swedish data) in full
and years in near ones at half (``EXPERIENCE_CREDIT``): eight years as a truck driver say
something about a warehouse job, whatever the code prefix. The reason separates the two.
"""
from __future__ import annotations

import numpy as np

from matching.criteria import by_key
from matching.criteria.base import Criterion, Evaluation, bin_levels, num
from matching.pairs import Pairs
from matching.taxonomy import occupations
from matching.taxonomy import proximity as prox


def _proximity(pairs: Pairs) -> Evaluation:
    codes = pairs.world.participants.desired_codes[pairs.p]
    target = pairs.world.openings.code[pairs.o]
    best = prox.best_match(codes, target)
    level = best.pop("level")
    return Evaluation(level, {**best, "opening_code": target, "title": pairs.ocol("title")})


def _occ_name(code: int, lang: str = "nb") -> str:
    code_s = f"{int(code):04d}"
    return occupations.name_en(code_s) if lang == "en" else occupations.name(code_s)


_HIERARCHY = {  # shared leading STYRK digits → what the pair shares
    3: {"nb": "samme yrkesgruppe i STYRK-08", "en": "same STYRK-08 minor group"},
    2: {"nb": "samme undergruppe i STYRK-08", "en": "same STYRK-08 sub-major group"},
    1: {"nb": "samme hovedgruppe i STYRK-08", "en": "same STYRK-08 major group"},
}


def _evidence(v, lang: str) -> list[str]:
    """Why the pair is at its level, strongest fact first, quoting the table's values."""
    out = []
    shared, core, subst, digits = int(v["shared_core"]), int(v["n_core"]), int(v["substitute_pct"]), int(v["shared_digits"])
    if shared >= prox.RELATED_MIN or (shared and shared / max(core, 1) >= prox.NEAR_SHARE):
        out.append(f"shares {shared} of {core} core skills" if lang == "en"
                   else f"deler {shared} av {core} kjerneferdigheter")
    if subst:
        often = subst >= 75
        out.append(("often" if often else "sometimes") + " a substitute occupation (Swedish labour-market data)"
                   if lang == "en" else
                   ("ofte" if often else "av og til") + " et erstatningsyrke (svenske arbeidsmarkedsdata)")
    if digits in _HIERARCHY:
        out.append(_HIERARCHY[digits][lang])
    return out


def _proximity_text(level: int, v, lang: str) -> str:
    job = f"{v['title']} ({_occ_name(v['opening_code'], lang).lower()})"
    if level == prox.SAME:
        return f"Desired occupation: {job}" if lang == "en" else f"Ønsket yrke: {job}"
    if level == prox.FAR:
        return f"{job} is far from the desired occupations" if lang == "en" else f"{job} er langt fra ønskede yrker"
    wanted = _occ_name(v["desired_code"], lang).lower()
    why = "; ".join(_evidence(v, lang))
    if lang == "en":
        how = {3: "close to", 2: "near", 1: "related to"}[level]
        return f"{job} is {how} the desired occupation {wanted}: {why}"
    how = {3: "ligger nært", 2: "ligger nær", 1: "er beslektet med"}[level]
    return f"{job} {how} ønsket yrke {wanted}: {why}"


proximity = Criterion(
    name="occupation",
    levels=(
        {"nb": "ulikt yrkesfelt", "en": "different field"},
        {"nb": "beslektet felt", "en": "related field"},
        {"nb": "nær", "en": "near"},
        {"nb": "nært beslektet", "en": "close"},
        {"nb": "samme yrke", "en": "same occupation"},
    ),
    evaluate=_proximity,
    reason=_proximity_text,
    fast_level=by_key.occupation_level,
    description="closest desired occupation: STYRK-08 hierarchy, shared ESCO core skills, substitutability",
)


EXPERIENCE_BINS = [0.01, 1.0, 3.0]
#: Share of a year of experience that counts, by the proximity level of the occupation it was
#: in to the opening's (index = level: far, related, near, close, same).
EXPERIENCE_CREDIT = np.array([0.0, 0.0, 0.5, 1.0, 1.0])


def _experience(pairs: Pairs) -> Evaluation:
    codes, years = pairs.world.participants.experience
    codes, years = codes[pairs.p], years[pairs.p]
    target = pairs.world.openings.code[pairs.o]
    level = prox.level_matrix(codes, target)
    total = (years * EXPERIENCE_CREDIT[level]).sum(axis=1) if codes.shape[1] else np.zeros(len(pairs))
    close = (years * (level >= prox.CLOSE)).sum(axis=1) if codes.shape[1] else np.zeros(len(pairs))
    return Evaluation(bin_levels(total, EXPERIENCE_BINS, "increasing"),
                      {"years": total, "years_close": close, "years_near": total - close,
                       "opening_code": target})


def _years_en(years: float) -> str:
    return f"{num(years, 'en')} year" + ("" if years == 1 else "s")


def _experience_text(level: int, v, lang: str) -> str:
    occ = _occ_name(v["opening_code"], lang).lower()
    close, near = float(v["years_close"]), 2 * float(v["years_near"])
    if level == 0:
        return f"No experience in this field ({occ})" if lang == "en" else f"Ingen erfaring innen feltet ({occ})"
    if close <= 0:
        return (f"{_years_en(near)} of experience in related work, counted half ({occ})" if lang == "en"
                else f"{num(near, lang)} års erfaring i beslektet arbeid, teller halvt ({occ})")
    text = (f"{_years_en(close)} of experience in the field ({occ})" if lang == "en"
            else f"{num(close, lang)} års erfaring innen feltet ({occ})")
    if near > 0:
        text += (f", and {num(near, lang)} in related work (counted half)" if lang == "en"
                 else f", og {num(near, lang)} i beslektet arbeid (teller halvt)")
    return text


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
    fast_level=lambda pairs: bin_levels(by_key.experience_years(pairs), EXPERIENCE_BINS, "increasing"),
    description="years of experience in occupations close to the opening's (near ones count half)",
)

CRITERIA = [proximity, experience]
