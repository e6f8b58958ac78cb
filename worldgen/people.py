"""Participants of a generated world: where they live, what they want and can, what they need.

Randomness is drawn up front as numpy arrays (see :mod:`.world`); columns starting with ``_``
are the simulator's hidden state (wished codes, experience, day of registration, needs, car).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from matching import schema
from worldgen import typed
from worldgen.catalogue import INDUSTRIES, OCCUPATIONS, TRUSTED, nace_sections
from worldgen.world import (
    NEED_CATEGORY,
    NEED_CODES,
    NORWEGIAN_CATEGORY,
    OCC_CODES,
    _days,
    _gumbel_top,
    _join,
    _sample_places,
    _skill_table,
)


def _sections_by_code() -> dict[str, list[str]]:
    sections = nace_sections()
    out: dict[str, list[str]] = {}
    for ind in INDUSTRIES:
        for code, _ in ind.occupations:
            for nace, _ in ind.variants:
                if sections[nace] not in out.setdefault(code, []):
                    out[code].append(sections[nace])
    return out


def participants(
    rng, region: pd.DataFrame, n: int, span: int, start: dt.date, occupation_weights: np.ndarray | None = None
) -> pd.DataFrame:
    """`n` participants; `occupation_weights` (per catalogue occupation) replaces the local
    estimate of what people seek (e.g. by real job-seeker counts)."""
    home = region.groupby("office_id")["home"].sum()
    office = home.index.to_numpy()[rng.choice(len(home), size=n, p=(home / home.sum()).to_numpy())]
    postal = _sample_places(rng, region, "home", office)

    # Desired occupations: a first wish ∝ volume (degree jobs rarer among NAV's participants),
    # further wishes mostly from the same cluster (shop + warehouse, kitchen + cleaning, …).
    occ_w = (
        np.array([o.base * (0.35 if o.education in ("bachelor", "master") else 1.0) for o in OCCUPATIONS])
        if occupation_weights is None
        else np.asarray(occupation_weights, dtype=float)
    )
    cluster = np.array([o.cluster for o in OCCUPATIONS])
    first = rng.choice(len(OCCUPATIONS), size=n, p=occ_w / occ_w.sum())
    k = rng.choice([1, 2, 3], size=n, p=[0.45, 0.37, 0.18])
    wishes = np.full((n, 3), -1)
    wishes[:, 0] = first
    for j in (1, 2):
        same = rng.random(n) < 0.6
        w = np.where(same[:, None], (cluster[None, :] == cluster[first][:, None]) * occ_w[None, :], occ_w[None, :])
        w[np.arange(n)[:, None], wishes[:, :j]] = 0.0
        pick = _gumbel_top(rng, w, np.ones(n, dtype=int)).argmax(axis=1)
        wishes[:, j] = np.where(k > j, pick, -1)

    # Typed titles: a real name of each wished occupation in a typed spelling (see .typed);
    # someone who gives no codes writes the first wish plainly (a catalogue title, as
    # written or in lower case), so the loader always recognises one title.
    codes_given = rng.random(n) < 0.5
    u_title, u_var, i_var = rng.random((n, 3)), rng.random((n, 3)), rng.integers(0, 1000, (n, 3))
    u_src = rng.random((n, 3))
    canonical, typed_titles = {}, {}
    for i in range(n):
        for j in range(3):
            if wishes[i, j] < 0:
                break
            o = OCCUPATIONS[wishes[i, j]]
            plain = [x for x in o.titles if "(" not in x] or list(o.titles)
            canonical[i, j] = plain[int(u_title[i, j] * len(plain))]
            name = typed.pick_title(o.code, o.titles, u_src[i, j], u_title[i, j])
            typed_titles[i, j] = typed.spell(name, u_var[i, j], int(i_var[i, j]), o.cluster)
    ok = {(i, j): codes_given[i] or j > 0 or typed.is_plain(u_src[i, j], u_var[i, j]) for i, j in typed_titles}
    desired_titles, desired_codes = [], []
    for i in range(n):
        row, codes = [], []
        for j in range(3):
            if wishes[i, j] < 0:
                break
            row.append(typed_titles[i, j] if ok[i, j] else canonical[i, j])
            codes.append(OCCUPATIONS[wishes[i, j]].code)
        desired_titles.append("|".join(dict.fromkeys(row)))
        desired_codes.append(codes)

    # Experience: 65 % have some, mostly in a wished occupation; years ~ Gamma.
    has_exp = rng.random(n) < 0.65
    n_exp = np.where(has_exp, rng.choice([1, 2], size=n, p=[0.7, 0.3]), 0)
    from_wish = wishes[np.arange(n)[:, None], (rng.random((n, 2)) * k[:, None]).astype(int)]
    elsewhere = rng.choice(len(OCCUPATIONS), size=(n, 2), p=occ_w / occ_w.sum())
    exp_code = np.where(rng.random((n, 2)) < 0.7, from_wish, elsewhere)
    exp_years = np.round(np.clip(rng.gamma(1.5, 2.5, (n, 2)), 0.5, 30) * 2) / 2
    experience, exp_struct = [], []
    for i in range(n):
        items = dict.fromkeys(int(exp_code[i, j]) for j in range(n_exp[i]))
        pairs = [(OCCUPATIONS[c].code, float(exp_years[i, j])) for j, c in enumerate(items)]
        experience.append("|".join(f"{c}:{y:g}" for c, y in pairs))
        exp_struct.append(pairs)

    # Skills: a partial share of the first wish's essential skills (more with experience).
    codes_u, idx = np.unique(OCC_CODES[first], return_inverse=True)
    ess, ess_ok = _skill_table(codes_u, 0, 12)
    share = rng.beta(2.0, 3.0, n) + 0.15 * has_exp
    held = ess_ok[idx] & (rng.random((n, 12)) < share[:, None])
    skill_ids = [sorted(ess[ci][m]) for ci, m in zip(idx, held)]
    # Some list none (their likely skills are inferred); the rest write some as free text.
    lists_none = rng.random(n) < 0.15
    skill_lists = typed.written_skills(skill_ids, rng.random((n, 12)), rng.integers(0, 1000, (n, 12)))
    skill_lists = ["" if none else s for s, none in zip(skill_lists, lists_none)]

    limited = rng.random(n) < 0.2
    levels = np.array(schema.NORWEGIAN_LEVELS)
    nor = np.where(
        limited, levels[rng.choice(4, size=n, p=[0.1, 0.25, 0.3, 0.35])], levels[rng.choice([4, 5, 6], size=n, p=[0.15, 0.15, 0.7])]
    )
    edu = np.array(schema.EDUCATION_LEVELS)[rng.choice(6, size=n, p=[0.06, 0.28, 0.26, 0.22, 0.14, 0.04])]
    has_b = rng.random(n) < 0.65
    heavy = has_b & (rng.random(n) < 0.08)
    bus = has_b & (rng.random(n) < 0.03)
    licences = ["|".join(["B"] + (["C", "CE"] if h else []) + (["D"] if b else [])) if a else "" for a, h, b in zip(has_b, heavy, bus)]
    commute = np.where(
        has_b, np.array([15, 20, 25, 30, 40, 50, 60])[rng.integers(0, 7, n)], np.array([5, 8, 10, 12, 15, 20, 25])[rng.integers(0, 7, n)]
    ).astype(float)

    has_needs = rng.random(n) < 0.65
    n_needs = np.where(has_needs, rng.choice([1, 2, 3, 4], size=n, p=[0.35, 0.3, 0.2, 0.15]), 0)
    norw = NEED_CATEGORY == NORWEGIAN_CATEGORY
    need_w = np.where(norw[None, :], np.where(limited, 2.5, 0.05)[:, None], 1.0)
    needs = _gumbel_top(rng, need_w, n_needs)
    time_need = needs[:, NEED_CATEGORY == "arbeidstid"].any(axis=1)
    part = rng.random(n) < np.where(time_need, 0.6, 0.2)
    max_hours = np.where(part, np.array([15.0, 20.0, 24.0, 30.0])[rng.integers(0, 4, n)], 37.5)
    goal_p = np.where((has_needs | limited)[:, None], [0.3, 0.35, 0.35], [0.55, 0.12, 0.33])
    goal = np.array(["job", "trial", "either"])[(rng.random(n)[:, None] > goal_p.cumsum(axis=1)).sum(axis=1)]
    shares = has_needs & (rng.random(n) < 0.4)

    sections = _sections_by_code()
    wants_pref = rng.random(n) < 0.3
    u_pref = rng.random((n, 2))
    prefs = []
    for i in range(n):
        pool = sorted({s for c in desired_codes[i] for s in sections.get(c, [])})
        if not wants_pref[i] or not pool:
            prefs.append("")
            continue
        picked = {pool[int(u_pref[i, j] * len(pool))] for j in range(1 + int(u_pref[i, 1] < 0.3))}
        prefs.append("|".join(sorted(picked)))

    reg = rng.integers(0, max(span - 20, 1), n)
    available = np.where(rng.random(n) < 0.3, reg + rng.integers(0, 61, n), -1)
    trusted = np.where(rng.random(n) < 0.1, np.array(TRUSTED)[rng.integers(0, len(TRUSTED), n)], "")

    return pd.DataFrame(
        {
            "participant_id": [f"P-{i + 1:06d}" for i in range(n)],
            "office_id": office,
            "registered_at": _days(start, reg),
            "postal_code": postal,
            "max_commute_km": commute,
            "desired_titles": desired_titles,
            "desired_styrk08": ["|".join(c) if g else "" for c, g in zip(desired_codes, codes_given)],
            "skills": skill_lists,
            "experience": experience,
            "education_level": edu,
            "norwegian_level": nor,
            "driving_licences": licences,
            "max_hours_per_week": max_hours,
            "wants_part_time": np.where(part, "true", "false"),
            "available_from": np.where(available < 0, "", _days(start, np.maximum(available, 0))),
            "goal": goal,
            "adaptation_needs": _join(np.array(NEED_CODES), needs),
            "shares_needs_with_employers": np.where(shares, "true", "false"),
            "preferred_industries": prefs,
            "trusted_person": trusted,
            "_skills": ["|".join(x) for x in skill_ids],
            "_wishes": list(np.where(wishes >= 0, OCC_CODES[np.maximum(wishes, 0)].astype(int), -1)),
            "_exp": exp_struct,
            "_reg": reg,
            "_needs": list(needs),
            "_car": has_b,
        }
    )


#: Age bands at registration and their shares (rounded, after NAV's published statistics:
#: registered job seekers, and people with reduced work capacity — "nedsatt arbeidsevne" — who
#: are older on average). A participant with adaptation needs is drawn from the second.
AGE_BANDS = ((16, 19), (20, 24), (25, 29), (30, 39), (40, 49), (50, 59), (60, 66))
AGE_SHARES_JOB_SEEKERS = (0.03, 0.12, 0.14, 0.26, 0.20, 0.17, 0.08)
AGE_SHARES_REDUCED_CAPACITY = (0.02, 0.10, 0.13, 0.24, 0.21, 0.21, 0.09)
#: Youngest age at which working life (the experience a profile lists) starts.
WORKING_FROM = 17


def birth_years(rng, parts: pd.DataFrame, start: dt.date) -> np.ndarray:
    """Each participant's birth year: an age at registration drawn by band (see AGE_SHARES_*),
    at least WORKING_FROM + the years of experience listed, then the year of registration minus
    that age, minus one for those whose birthday is still to come that year.

    Its own random stream (the caller's `rng`): the other columns and the outcome history do
    not depend on it, and the simulation does not read it."""
    n = len(parts)
    needs = np.array([bool(np.asarray(m).any()) for m in parts["_needs"]], dtype=bool)
    shares = np.where(needs[:, None], AGE_SHARES_REDUCED_CAPACITY, AGE_SHARES_JOB_SEEKERS)
    band = (rng.random(n)[:, None] > shares.cumsum(axis=1)).sum(axis=1).clip(0, len(AGE_BANDS) - 1)
    lo, hi = np.array([b[0] for b in AGE_BANDS])[band], np.array([b[1] for b in AGE_BANDS])[band]
    age = lo + (rng.random(n) * (hi - lo + 1)).astype(int)
    worked = np.array([sum(y for _, y in exp) for exp in parts["_exp"]], dtype=float)
    age = np.minimum(np.maximum(age, WORKING_FROM + np.ceil(worked).astype(int)), AGE_BANDS[-1][1])
    reg_year = (np.datetime64(start, "D") + parts["_reg"].to_numpy().astype("timedelta64[D]")).astype("datetime64[Y]").astype(int) + 1970
    return reg_year - age - (rng.random(n) < 0.5).astype(int)
