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

from matching.criteria.base import Criterion, Levels, PairValues, Values, cached, compact, num, t
from matching.pairs import Pairs
from matching.taxonomy import occupations
from matching.taxonomy import proximity as prox

# ---------------------------------------------------------------------------- proximity

PROXIMITY = Levels.categories("occupation", 5, neutral=1)  # far, related (neutral), near, close, same (prox.FAR … prox.SAME)


def _proximity_level(pairs: Pairs) -> np.ndarray:
    """Best proximity level over the participant's desired codes, once per distinct
    (participant, opening code): a (participant × code) table per chunk, the max of the level
    table's rows (level dominates the rank key, so the cell ``best_match`` quotes has the
    maximal level)."""
    n = len(pairs)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w, tab = pairs.world, prox.table()
    target = _styrk_rows(pairs)
    desired_rows = cached(w.participants, "_desired_rows", lambda: tab.rows(_desired(w.participants.desired_codes)))
    if pairs.o[0] == pairs.o[-1] and (pairs.o == pairs.o[0]).all():
        # One opening (its candidates): its code's column of the table, at each pair's codes.
        return tab.level[:, target[0]].take(desired_rows[pairs.p]).max(axis=1).astype(np.int64)
    rows, pl = compact(pairs.p, len(w.participants))
    width = tab.level.shape[1]
    if len(pairs) < len(rows) * width:
        # Few pairs per participant (an opening's candidates): each pair's own codes, not a
        # table row per participant.
        flat = desired_rows[pairs.p] * np.int64(width) + target[:, None]
        return tab.level.ravel().take(flat).max(axis=1).astype(np.int64)
    per_p = tab.level[desired_rows[rows]].max(axis=1)  # (participants, codes + 1)
    flat = pl * per_p.shape[1]
    flat += target
    return per_p.ravel().take(flat)


def _desired(codes: np.ndarray) -> np.ndarray:
    """Desired codes as int64, at least one column (-1: none)."""
    codes = np.asarray(codes, dtype=np.int64)
    return codes if codes.shape[1] else np.full((len(codes), 1), -1, dtype=np.int64)


def _styrk_rows(pairs: Pairs) -> np.ndarray:
    """Each pair's opening code as a row of the proximity table (rows cached per snapshot)."""
    openings = pairs.world.openings
    return cached(openings, "_styrk_rows", lambda: prox.table().rows(openings.code))[pairs.o]


def _proximity_values(pairs: Pairs) -> Values:
    codes = pairs.world.participants.desired_codes[pairs.p]
    target = pairs.world.openings.code[pairs.o]
    best = prox.best_match(codes, target)
    del best["level"]
    return {**best, "opening_code": target, "title": pairs.ocol("title")}


def _proximity_of_values(v: Values) -> np.ndarray:
    """The level of the desired code the reason quotes to the opening's."""
    desired = np.asarray(v["desired_code"], dtype=np.int64).reshape(-1, 1)
    return prox.level_matrix(desired, v["opening_code"]).reshape(-1).astype(np.int64)


def _occ_name(code: int, lang: str = "nb") -> str:
    code_s = f"{int(code):04d}"
    return occupations.label(code_s, lang)


_HIERARCHY = {  # shared leading STYRK digits → what the pair shares
    3: "occupation.same_minor_group",
    2: "occupation.same_sub_major_group",
    1: "occupation.same_major_group",
}
_HOW = {prox.CLOSE: "occupation.close", prox.NEAR: "occupation.near", prox.RELATED: "occupation.related"}


def _evidence(v: PairValues, lang: str) -> list[str]:
    """Why the pair is at its level, strongest fact first, quoting the table's values."""
    out = []
    shared, core, subst, digits = int(v["shared_core"]), int(v["n_core"]), int(v["substitute_pct"]), int(v["shared_digits"])
    if shared >= prox.RELATED_MIN or (shared and shared / max(core, 1) >= prox.NEAR_SHARE):
        out.append(t("occupation.shares_core", lang, shared=shared, core=core))
    if subst:
        out.append(t("occupation.substitute_often" if subst >= 75 else "occupation.substitute_sometimes", lang))
    if digits in _HIERARCHY:
        out.append(t(_HIERARCHY[digits], lang))
    return out


def _proximity_text(level: int, v: PairValues, lang: str) -> str:
    job = t("occupation.job", lang, title=v["title"], occupation=_occ_name(v["opening_code"], lang).lower())
    if level == prox.SAME:
        return t("occupation.same", lang, job=job)
    if level == prox.FAR:
        return t("occupation.far", lang, job=job)
    wanted = _occ_name(v["desired_code"], lang).lower()
    return t(_HOW[level], lang, job=job, wanted=wanted, why="; ".join(_evidence(v, lang)))


proximity = Criterion(
    name="occupation",
    levels=PROXIMITY,
    level=_proximity_level,
    values=_proximity_values,
    reason=_proximity_text,
    level_of_values=_proximity_of_values,
    description="closest desired occupation: STYRK-08 hierarchy, shared ESCO core skills, substitutability",
)

# ---------------------------------------------------------------------------- experience

EXPERIENCE = Levels.from_thresholds("experience", [0.01, 1.0, 3.0])
#: Share of a year of experience that counts, by the proximity level of the occupation it was
#: in to the opening's (index = level: far, related, near, close, same).
EXPERIENCE_CREDIT = np.array([0.0, 0.0, 0.5, 1.0, 1.0])


def experience_years(pairs: Pairs) -> np.ndarray:
    """Credited years, summed over the participant's entries in column order (as
    ``_experience_values`` does), once per distinct (participant, opening code)."""
    n = len(pairs)
    if n == 0:
        return np.zeros(0)
    w, tab = pairs.world, prox.table()
    codes, years = w.participants.experience
    target = _styrk_rows(pairs)
    if pairs.o[0] == pairs.o[-1] and (pairs.o == pairs.o[0]).all() or 2 * len(np.unique(pairs.p[:64])) > min(n, 64):
        # One pair per participant, or nearly (an opening's candidates): the (participant,
        # code) keys are all distinct, so each pair's own row arithmetic, not a marked table.
        exp_rows = cached(w.participants, "_experience_rows", lambda: tab.rows(codes))
        credit = cached(tab, "_experience_credit", lambda: EXPERIENCE_CREDIT[tab.level])  # credit per (from, to) cell
        if target[0] == target[-1] and (target == target[0]).all():
            return (years[pairs.p] * credit[:, target[0]].take(exp_rows[pairs.p])).sum(axis=1)
        return (years[pairs.p] * credit.ravel().take(exp_rows[pairs.p] * np.int64(credit.shape[1]) + target[:, None])).sum(axis=1)
    rows, pl = compact(pairs.p, len(w.participants))
    width = len(tab.codes) + 1
    key = pl * width + target
    mark = np.zeros(len(rows) * width, dtype=bool)
    mark[key] = True
    need = np.flatnonzero(mark)
    kp, kt = rows[need // width], need % width
    c, y = codes[kp], years[kp]
    total = (y * EXPERIENCE_CREDIT[prox.level_of_rows(tab.rows(c), kt)]).sum(axis=1)
    table = np.zeros(len(mark))
    table[need] = total
    return table[key]


def _experience_values(pairs: Pairs) -> Values:
    all_codes, all_years = pairs.world.participants.experience  # MAX_CODES columns, -1 padded
    codes, years = all_codes[pairs.p], all_years[pairs.p]
    target = pairs.world.openings.code[pairs.o]
    level = prox.level_matrix(codes, target)
    total = (years * EXPERIENCE_CREDIT[level]).sum(axis=1)  # experience_years sums the same way
    values = {"years": total, "opening_code": target}
    for name, lv in (("same", prox.SAME), ("close", prox.CLOSE), ("near", prox.NEAR)):
        values[f"years_{name}"] = (years * (level == lv)).sum(axis=1)
    # Each job as "code:years", for the reason to name every related occupation with its own
    # years; built once per distinct participant (one for a participant's list).
    uniq, inv = np.unique(pairs.p, return_inverse=True)
    values["detail"] = _experience_detail(all_codes[uniq], all_years[uniq])[inv.reshape(-1)]
    return values


def _experience_detail(codes: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Each row's jobs as "code:years|code:years" (f"{code}:{years:g}", in column order, the
    entries with a code and years > 0), as an object array. Each distinct (code, years) is
    formatted once and a row joins its entries' texts: formatting every entry took a batch
    more time than all the other experience values together."""
    row, col = np.nonzero((codes >= 0) & (years > 0))  # row-major: column order within a row
    c, y = codes[row, col], years[row, col]
    yv, yi = np.unique(y, return_inverse=True)
    key = c.astype(np.int64) * max(len(yv), 1) + yi.reshape(-1)
    _, first, at = np.unique(key, return_index=True, return_inverse=True)
    text = np.array([f"{a}:{b:g}" for a, b in zip(c[first].tolist(), y[first].tolist())], dtype=object)
    flat = text[at.reshape(-1)].tolist()
    cuts = np.searchsorted(row, np.arange(len(codes) + 1)).tolist()
    return np.array(["|".join(flat[a:b]) for a, b in zip(cuts[:-1], cuts[1:])], dtype=object)


def _years(years: float, lang: str) -> str:
    return t("experience.years_one" if years == 1 else "experience.years_other", lang, n=num(years, lang))


def _related(jobs: list[tuple[str, float]], total: float, close: bool, lang: str) -> str:
    """ "3 years in a closely related occupation (X)", or with several, each with its years."""
    if len(jobs) == 1:
        kind = t("experience.a_close_occupation" if close else "experience.a_near_occupation", lang)
        each = occupations.label(jobs[0][0], lang).lower()
    else:
        kind = t("experience.close_occupations" if close else "experience.near_occupations", lang)
        each = ", ".join(f"{t('quote', lang, text=occupations.label(c, lang).lower())}: {num(y, lang)}" for c, y in jobs)
    return t("experience.in_related", lang, years=_years(total, lang), kind=kind, jobs=each)


def _experience_text(level: int, v: PairValues, lang: str) -> str:
    """Years in the opening's own unit group are "in the field"; years elsewhere name the
    participant's own occupations, each with its years, never the opening's: three years as
    a car driver are not lorry-driving experience, however close the table puts the two."""
    opening = f"{int(v['opening_code']):04d}"
    occ = _occ_name(v["opening_code"], lang).lower()
    if level == 0:
        return t("experience.none", lang, occupation=occ)
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
        parts.append(t("experience.in_field", lang, n=num(y, lang), years=_years(y, lang), occupation=occ))
    if num(v["years_close"], lang) != "0" and jobs[prox.CLOSE]:
        parts.append(_related(sorted(jobs[prox.CLOSE], key=lambda j: -j[1]), float(v["years_close"]), True, lang))
    if num(v["years_near"], lang) != "0" and jobs[prox.NEAR]:
        share = float(EXPERIENCE_CREDIT[prox.NEAR])
        related = _related(sorted(jobs[prox.NEAR], key=lambda j: -j[1]), float(v["years_near"]), False, lang)
        parts.append(
            t("experience.counted_half", lang, related=related)
            if share == 0.5
            else t("experience.counted_share", lang, related=related, percent=num(share * 100, lang))
        )
    if not parts:
        return t("experience.under_a_month", lang, occupation=occ)
    return "; ".join(parts)


def _experience_shown(v: PairValues, lang: str) -> dict[str, object]:
    """Each job as {occupation code (string), years}, not the packed "code:years" string."""
    jobs = [item.split(":") for item in str(v.get("detail") or "").split("|") if item]
    return {
        "years": round(float(v["years"]), 2),
        "opening_code": f"{int(v['opening_code']):04d}",
        "years_same": round(float(v["years_same"]), 2),
        "years_close": round(float(v["years_close"]), 2),
        "years_near": round(float(v["years_near"]), 2),
        "jobs": [{"code": f"{int(c):04d}", "years": float(y)} for c, y in jobs],
    }


experience = Criterion(
    name="experience",
    levels=EXPERIENCE,
    level=lambda pairs: EXPERIENCE.bin(experience_years(pairs)),
    values=_experience_values,
    reason=_experience_text,
    shown_values=_experience_shown,
    level_of_values=lambda v: EXPERIENCE.bin(v["years"]),
    description="years of experience in occupations close to the opening's (near ones count half)",
)

CRITERIA = [proximity, experience]
