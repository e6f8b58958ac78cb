"""Occupation proximity from real structure, and experience in the opening's field.

Proximity is the level of the closest occupation the participant wants to the opening's, from
:mod:`matching.taxonomy.proximity`: the STYRK-08 hierarchy, the ESCO core skills the two
occupations share and Swedish substitutability data, precomputed as a code × code table so a
pair costs two array lookups. The reason quotes the evidence that put the pair at its level.
Experience counts years in occupations the same table puts close to the opening's (same unit
group, same minor group, at least ``CLOSE_SHARE`` of the opening's core skills, or a usual
substitute in the Swedish data) in full, and years in near ones at half (``EXPERIENCE_CREDIT``):
eight years as a truck driver say something about a warehouse job, whatever the code prefix.
The reason keeps the three apart and names each occupation the years were in.
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
    all_codes, all_years = pairs.world.participants.experience  # MAX_CODES columns, -1 padded
    codes, years = all_codes[pairs.p], all_years[pairs.p]
    target = pairs.world.openings.code[pairs.o]
    level = prox.level_matrix(codes, target)
    total = (years * EXPERIENCE_CREDIT[level]).sum(axis=1)  # the level; by_key sums the same way
    values = {"years": total, "opening_code": target}
    for name, lv in (("same", prox.SAME), ("close", prox.CLOSE), ("near", prox.NEAR)):
        values[f"years_{name}"] = (years * (level == lv)).sum(axis=1)
    # Each job as "code:years", for the reason to name every related occupation with its own
    # years; built once per distinct participant (one for a participant's list).
    uniq, inv = np.unique(pairs.p, return_inverse=True)
    detail = ["|".join(f"{c}:{y:g}" for c, y in zip(cr, yr) if c >= 0 and y > 0)
              for cr, yr in zip(all_codes[uniq].tolist(), all_years[uniq].tolist())]
    values["detail"] = np.array(detail, dtype=object)[inv]
    return Evaluation(bin_levels(total, EXPERIENCE_BINS, "increasing"), values)


def _years(years: float, lang: str) -> str:
    text = num(years, lang)
    return text + (" år" if lang != "en" else " year" if years == 1 else " years")


def _related(jobs: list[tuple[str, float]], total: float, close: bool, lang: str) -> str:
    """"3 years in a closely related occupation (X)", or with several, each with its years."""
    en = lang == "en"
    name = occupations.name_en if en else occupations.name
    if len(jobs) == 1:
        kind = ("a closely related occupation" if close else "a related occupation") if en else \
            ("et nært beslektet yrke" if close else "et beslektet yrke")
        return f"{_years(total, lang)} {'in' if en else 'i'} {kind} ({name(jobs[0][0]).lower()})"
    kind = ("closely related occupations" if close else "related occupations") if en else \
        ("nært beslektede yrker" if close else "beslektede yrker")
    q = ('"{}"' if en else "«{}»")
    each = ", ".join(f"{q.format(name(c).lower())}: {num(y, lang)}" for c, y in jobs)
    return f"{_years(total, lang)} {'in' if en else 'i'} {kind} ({each})"


def _experience_text(level: int, v, lang: str) -> str:
    """Years in the opening's own unit group are "in the field"; years elsewhere name the
    participant's own occupations, each with its years, never the opening's: three years as
    a car driver are not lorry-driving experience, however close the table puts the two."""
    en = lang == "en"
    opening = f"{int(v['opening_code']):04d}"
    occ = _occ_name(v["opening_code"], lang).lower()
    if level == 0:
        return f"No experience in this field ({occ})" if en else f"Ingen erfaring innen feltet ({occ})"
    jobs: dict[int, list[tuple[str, float]]] = {prox.CLOSE: [], prox.NEAR: []}
    for item in str(v.get("detail") or "").split("|"):
        if item:
            code, years = item.split(":")
            code = f"{int(code):04d}"
            lv = prox.proximity(code, opening)["level"]
            if lv in jobs:
                jobs[lv].append((code, float(years)))
    parts = []
    if num(v["years_same"], lang) != "0":
        y = float(v["years_same"])
        parts.append(f"{_years(y, lang)} of experience in the field ({occ})" if en
                     else f"{num(y, lang)} års erfaring innen feltet ({occ})")
    if num(v["years_close"], lang) != "0" and jobs[prox.CLOSE]:
        parts.append(_related(sorted(jobs[prox.CLOSE], key=lambda j: -j[1]), float(v["years_close"]), True, lang))
    if num(v["years_near"], lang) != "0" and jobs[prox.NEAR]:
        share = EXPERIENCE_CREDIT[prox.NEAR]
        counted = ("counted half" if en else "teller halvt") if share == 0.5 else \
            (f"counted at {share:.0%}" if en else f"teller {num(share * 100, lang)} %")
        parts.append(f"{_related(sorted(jobs[prox.NEAR], key=lambda j: -j[1]), float(v['years_near']), False, lang)}"
                     f", {counted}")
    if not parts:
        return (f"Less than a month of experience in the field or related work ({occ})" if en
                else f"Under en måned erfaring innen feltet eller beslektet arbeid ({occ})")
    return "; ".join(parts)


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
