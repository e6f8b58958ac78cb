"""The places and workplaces of a generated world: region, employers and openings.

Every function draws its randomness up front as numpy arrays; the only per-row Python is
string assembly. Columns starting with ``_`` are the simulator's hidden or internal state
(true occupation code, day numbers, latent responsiveness, …) and are never written.
Days are counted from the start of the history window (day 0) to the reference date (``span``).
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import numpy as np
import pandas as pd

from matching import schema
from matching.taxonomy import adaptations, skills
from matching.taxonomy.places import haversine_km, postal_table
from worldgen.catalogue import (
    FIRST_NAMES,
    IND_BY_KEY,
    INDUSTRIES,
    LAST_NAMES,
    MUNICIPAL_EXTRA,
    OCC_BY_CODE,
    OCCUPATIONS,
    OFFICES,
    PUBLIC_EMPLOYERS,
    TRONDHEIM_AREAS,
    PublicEmployer,
    demand_weight,
    nace_sections,
)

NEED_CODES: tuple[str, ...] = tuple(adaptations.needs())
NEED_CATEGORY = np.array([adaptations.needs()[c].category for c in NEED_CODES])
NORWEGIAN_CATEGORY = "utfordringerMedNorsk"
STREET = ("Gate-/veg-adresse", "Gateadresser og postboksar")
OCC_CODES = np.array([o.code for o in OCCUPATIONS])
OCC_INDEX = {c: i for i, c in enumerate(OCC_CODES)}
_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e", " ": "", ".": "", "-": "", "&": ""})


def _ascii(text: str) -> str:
    """Drop the accents æøå-translation leaves (ü, á, č, ŋ in national place names)."""
    return text if text.isascii() else unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _gumbel_top(rng: np.random.Generator, weights: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per row, a boolean mask of `counts[i]` columns drawn without replacement ∝ weights.

    Gumbel-top-k: the k largest of log(w) + Gumbel noise are a weighted sample without
    replacement. Zero-weight columns are never drawn.
    """
    weights = np.broadcast_to(weights, (len(counts), weights.shape[-1]))
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.shape)
    rank = np.argsort(np.argsort(-keys, axis=1, kind="stable"), axis=1, kind="stable")
    available = (weights > 0).sum(axis=1)
    return rank < np.minimum(counts, available)[:, None]


def _join(values: np.ndarray, mask: np.ndarray) -> list[str]:
    return ["|".join(values[row]) for row in mask]


def _days(start: dt.date, day: np.ndarray) -> np.ndarray:
    base = np.datetime64(start.isoformat(), "D")
    return np.datetime_as_string(base + day.astype("timedelta64[D]"), unit="D")


# ---------------------------------------------------------------------------------------- region


def region_postcodes() -> pd.DataFrame:
    """Postal codes with coordinates in the offices' municipalities, each with its office.

    Trondheim's four offices split the city by nearest office; each other office owns its
    municipality. `home` weights (2017 population) place participants, `site` weights
    (√population + a floor, so business areas get employers too) place workplaces.
    """
    table = postal_table().reset_index()
    munis = sorted({o.municipality_code for o in OFFICES})
    df = table[table["kommunenummer_2025"].isin(munis)].copy()
    pop = pd.to_numeric(df["folketal_2017"], errors="coerce").fillna(0.0)
    street = df["bruksomrade_2017"].isin(STREET)
    df["home"] = np.where(street, pop, 0.0)
    df["site"] = np.where(street, np.sqrt(pop) + 10.0, 0.0)
    df["office_id"] = ""
    for muni in munis:
        in_muni = (df["kommunenummer_2025"] == muni).to_numpy()
        offices = [o for o in OFFICES if o.municipality_code == muni]
        pts = postal_table().loc[[o.postal_code for o in offices]]
        dist = haversine_km(
            df.loc[in_muni, "lat"].to_numpy()[:, None],
            df.loc[in_muni, "lon"].to_numpy()[:, None],
            pts["lat"].to_numpy()[None, :],
            pts["lon"].to_numpy()[None, :],
        )
        df.loc[in_muni, "office_id"] = np.array([o.office_id for o in offices])[dist.argmin(axis=1)]
    return df.sort_values("postnummer").reset_index(drop=True)


def _sample_places(rng, region: pd.DataFrame, weight: str, groups: np.ndarray, key: str = "office_id") -> np.ndarray:
    """Postal codes ∝ `weight`, the i-th within `region[key] == groups[i]`."""
    codes = region["postnummer"].to_numpy()
    w = region[weight].to_numpy(float)
    out = np.empty(len(groups), dtype=object)
    for value, rows in region.groupby(key, sort=True).indices.items():
        mask = groups == value
        if mask.any():
            gw = w[rows]
            out[mask] = codes[rows[rng.choice(len(rows), size=int(mask.sum()), p=gw / gw.sum())]]
    return out


def _place_all(rng, region: pd.DataFrame, weight: str, n: int) -> np.ndarray:
    w = region[weight].to_numpy(float)
    return region["postnummer"].to_numpy()[rng.choice(len(region), size=n, p=w / w.sum())]


# ---------------------------------------------------------------------------------------- employers


def _orgnrs(rng, n: int, taken: set[str]) -> np.ndarray:
    """`n` distinct valid organisation numbers (9 digits, mod-11 check), none in `taken`."""
    weights = np.array([3, 2, 7, 6, 5, 4, 3, 2])
    out: list[str] = []
    seen = set(taken)
    while len(out) < n:
        body = np.column_stack([np.full(2 * n + 10, 9), rng.integers(0, 10, size=(2 * n + 10, 7))])
        rem = (body * weights).sum(axis=1) % 11
        check = np.where(rem == 0, 0, 11 - rem)
        for digits, c in zip(body[check != 10], check[check != 10]):
            s = "".join(map(str, digits)) + str(c)
            if s not in seen:
                seen.add(s)
                out.append(s)
                if len(out) == n:
                    break
    return np.array(out)


def _quota(rng, weights: np.ndarray, n: int) -> np.ndarray:
    """`n` category indices in proportion to `weights` (largest remainders), shuffled.

    Proportional quotas rather than independent draws keep a small world's mix close to the
    intended one (a 75-employer fixture should not lose its hauliers to chance).
    """
    exact = n * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    short = n - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return rng.permutation(np.repeat(np.arange(len(weights)), counts))


def _industry_weights(volume: dict[str, float] | None = None) -> np.ndarray:
    """Each occupation's volume (default base × demand) split over the industries that employ it."""
    share_sum: dict[str, float] = {}
    for ind in INDUSTRIES:
        for code, share in ind.occupations:
            share_sum[code] = share_sum.get(code, 0.0) + share
    vol = volume or {c: OCC_BY_CODE[c].base * demand_weight(c) for c in share_sum}
    return np.array([sum(vol[c] * s / share_sum[c] for c, s in ind.occupations) for ind in INDUSTRIES])


def _place_name(row: pd.Series) -> str:
    """The postal place, or inside Trondheim the nearest neighbourhood (or the region's `place`)."""
    if "place" in row.index:
        return str(row["place"])
    place = str(row["poststed"])
    if place.casefold() != "trondheim":
        return place
    names = list(TRONDHEIM_AREAS)
    pts = np.array(list(TRONDHEIM_AREAS.values()))
    return names[int(haversine_km(row["lat"], row["lon"], pts[:, 0], pts[:, 1]).argmin())]


#: Share of (invented) employers that cap NAV's contacts per month, and the caps drawn.
CAP_SHARE = 0.15
CAP_VALUES = (2, 3, 4, 5, 6, 8, 10, 15)
#: Logit of answering a contact at average responsiveness (σ(2.3) ≈ 0.91).
ANSWER_BASE = 2.3


def employers(
    rng, region: pd.DataFrame, n: int, real: tuple[PublicEmployer, ...] = PUBLIC_EMPLOYERS, volume: dict[str, float] | None = None
) -> pd.DataFrame:
    """`n` employers: the first n/10 of the `real` ones, the rest invented by industry ∝ volume."""
    public = real[: min(len(real), n // 10)]
    m = n - len(public)
    w = _industry_weights(volume) * np.array([i.invented for i in INDUSTRIES])
    ind = np.array([i.key for i in INDUSTRIES])[_quota(rng, w, m)]
    postal = _place_all(rng, region, "site", m)
    loc = region.set_index("postnummer")
    u_variant, u_template = rng.random(m), rng.random(m)
    names, nace = [], []
    for i in range(m):
        variants = IND_BY_KEY[ind[i]].variants
        code, templates = variants[int(u_variant[i] * len(variants))]
        names.append(templates[int(u_template[i] * len(templates))].format(place=_place_name(loc.loc[postal[i]])))
        nace.append(code)
    df = pd.DataFrame(
        {
            "name": [p.name for p in public] + names,
            "_industry": [p.industry for p in public] + list(ind),
            "nace": [IND_BY_KEY[p.industry].variants[0][0] for p in public] + nace,
            "postal_code": [p.postal_code for p in public] + list(postal),
            "_public": [True] * len(public) + [False] * m,
            "_size": np.concatenate([[p.size for p in public], rng.lognormal(0.0, 0.8, m)]),
        }
    )
    dup = df.groupby("name").cumcount().to_numpy()
    df["name"] = [f"{nm} avd. {k + 1}" if k else nm for nm, k in zip(df["name"], dup)]
    df["orgnr"] = np.concatenate([[p.orgnr for p in public], _orgnrs(rng, m, {p.orgnr for p in public})])
    df["nace_section"] = df["nace"].map(nace_sections())
    df["office_id"] = df["postal_code"].map(loc["office_id"])

    # Hidden responsiveness r drives (noisily) the agreement, the offers and the track record.
    r = rng.normal(0.0, 1.0, n)
    prior = np.array([IND_BY_KEY[k].ia_propensity for k in df["_industry"]])
    logit = np.log(prior / (1 - prior)) + 0.8 * r + np.where(df["_public"], 2.0, 0.0)
    ia = rng.random(n) < 1 / (1 + np.exp(-logit))
    n_offer = np.clip(rng.poisson(0.5 + 2.5 * ia + 0.8 * np.clip(r, 0, None) + 1.0 * df["_public"]), 0, 10)
    need_w = np.where(NEED_CATEGORY == NORWEGIAN_CATEGORY, 0.5, 1.0)
    need_w = np.where(np.array(NEED_CODES) == "PERSONLIG_BISTAND", 0.3, need_w)
    offers = _gumbel_top(rng, need_w, n_offer)
    trials = rng.poisson((1.0 + 6.0 * ia + 2.0 * np.clip(r, 0, None)) * np.where(df["_public"], 3.0, 1.0))
    hires = rng.binomial(trials, 1 / (1 + np.exp(-(-0.8 + 0.9 * r))))
    first = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n)]
    df["adaptations_offered"] = _join(np.array(NEED_CODES), offers)
    df["inclusive_workplace_agreement"] = np.where(ia, "true", "false")
    df["past_trial_placements"] = trials
    df["past_hires_after_trial"] = hires
    df["contact_name"] = [f"{a} {b}" for a, b in zip(first, last)]
    df["contact_email"] = [
        f"{a.lower().translate(_ASCII)}.{b.lower().translate(_ASCII)}@{_ascii(nm.lower().translate(_ASCII))[:24]}.example.no"
        for a, b, nm in zip(first, last, df["name"])
    ]
    df["_r"] = r
    df["_ia"] = ia
    df["_offers"] = list(offers)
    # Drawn from a child stream (issue 14), so every other draw of the world stays as it was.
    extra = rng.spawn(1)[0]
    capped = (extra.random(n) < CAP_SHARE) & ~df["_public"].to_numpy(dtype=bool)
    caps = np.array(CAP_VALUES)[extra.integers(0, len(CAP_VALUES), n)]
    df["max_contacts_per_month"] = np.where(capped, caps.astype(str), "")
    # How readily the employer answers NAV's contacts: partly the same hidden responsiveness r.
    df["_answer_logit"] = ANSWER_BASE + 0.8 * r + extra.normal(0.0, 1.0, n)
    return df


# ---------------------------------------------------------------------------------------- openings


def _skill_table(codes: np.ndarray, which: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes × width) skill ids (blank padded) and their availability, from occupation_skills."""
    table = np.full((len(codes), width), "", dtype=object)
    for i, code in enumerate(codes):
        ids = skills.occupation_skills(str(code))[which][:width]
        table[i, : len(ids)] = ids
    return table, table != ""


def _pools(employers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per employer, the occupation pool of its industry (municipalities' own extra) as a key."""
    industry = employers["_industry"].to_numpy()
    municipal = employers["_public"].to_numpy() & (employers["_industry"] == "municipal").to_numpy()
    return industry, municipal


def _pool(key: str, muni_flag: bool) -> tuple[tuple[str, float], ...]:
    return IND_BY_KEY[key].occupations + (MUNICIPAL_EXTRA if muni_flag else ())


def _employer_first(rng, employers: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Employer ∝ size, then an occupation of its industry ∝ share × demand (the local mix)."""
    n_emp = len(employers)
    size = employers["_size"].to_numpy(float)
    emp = rng.choice(n_emp, size=n, p=size / size.sum())
    ind_of, muni_of = _pools(employers)
    industry, municipal = ind_of[emp], muni_of[emp]
    code = np.empty(n, dtype=object)
    for key in sorted(set(industry)):
        for muni_flag in (False, True):
            mask = (industry == key) & (municipal == muni_flag)
            if not mask.any():
                continue
            pool = _pool(key, muni_flag)
            w = np.array([s * demand_weight(c) for c, s in pool])
            code[mask] = np.array([c for c, _ in pool])[rng.choice(len(pool), size=int(mask.sum()), p=w / w.sum())]
    return emp, code


def _occupation_first(rng, employers: pd.DataFrame, n: int, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Occupation ∝ `weights` (a real national mix), then an employer that has such jobs ∝
    size × the occupation's share of its industry; so the mix holds exactly at any size."""
    occ = rng.choice(len(OCCUPATIONS), size=n, p=weights / weights.sum())
    ind_of, muni_of = _pools(employers)
    size = employers["_size"].to_numpy(float)
    fit = np.zeros((len(employers), len(OCCUPATIONS)))
    for key in sorted(set(ind_of)):
        for muni_flag in (False, True):
            rows = np.flatnonzero((ind_of == key) & (muni_of == muni_flag))
            pool = _pool(key, muni_flag)
            total = sum(s for _, s in pool)
            for c, s in pool:
                fit[rows, OCC_INDEX[c]] += s / total
    fit *= size[:, None]
    emp = np.empty(n, dtype=int)
    for j in np.unique(occ):
        mask = occ == j
        w = fit[:, j] if fit[:, j].sum() > 0 else size
        emp[mask] = rng.choice(len(employers), size=int(mask.sum()), p=w / w.sum())
    return emp, OCC_CODES[occ].astype(object)


def openings(
    rng, employers: pd.DataFrame, region: pd.DataFrame, n: int, span: int, start: dt.date, occupation_weights: np.ndarray | None = None
) -> pd.DataFrame:
    """`n` openings; with `occupation_weights` (per catalogue occupation) the occupation is
    drawn first and the employer second, else employer first and its industry's local mix."""
    n_emp = len(employers)
    if occupation_weights is None:
        emp, code = _employer_first(rng, employers, n)
    else:
        emp, code = _occupation_first(rng, employers, n, occupation_weights)
    occ = [OCC_BY_CODE[c] for c in code]
    ia = employers["_ia"].to_numpy()[emp]
    trial_ok = np.array([o.trial_ok for o in occ], dtype=bool)
    kind = np.where(trial_ok & (rng.random(n) < 0.2 + 0.2 * ia), "trial", "job")
    is_trial = kind == "trial"

    # Publication: the history (trend: more openings lately) plus the current stock.
    current = rng.random(n) < 0.24
    hist_pub = np.floor((span - 20) * rng.random(n) ** 0.75)  # density ∝ day^⅓: a mild upward trend
    pub = np.where(current, rng.integers(max(span - 120, 0), span + 1, n), hist_pub).astype(int)
    duration = np.where(is_trial, rng.integers(60, 301, n), rng.integers(21, 91, n))
    close = np.where(current, span + rng.integers(7, 151, n), pub + duration)
    is_open = close > span
    close = np.where(is_open, np.clip(close, span + 7, span + 150), close)  # open: deadline 1–21 weeks ahead

    no_deadline = rng.random(n) < np.where(is_trial, 0.85, 0.4)
    deadline = np.where(no_deadline, -1, close)
    start_day = np.where(is_trial, pub + rng.integers(7, 46, n), np.where(deadline >= 0, deadline, pub + 30) + rng.integers(7, 46, n))
    start_blank = is_trial & (rng.random(n) < 0.25)

    part_share = np.array([o.part_time for o in occ], dtype=float)
    part = rng.random(n) < np.where(is_trial, np.maximum(part_share, 0.5), part_share)
    hours = np.where(part, np.array([10, 15, 18.75, 20, 22.5, 26.25, 30])[rng.integers(0, 7, n)], 37.5)
    big = np.isin(code, ["5223", "4321", "5321", "5329", "9112", "9412", "5322"])
    positions = 1 + np.where(is_trial, rng.poisson(0.2, n), rng.poisson(np.where(big, 0.8, 0.3)))

    codes_u, code_idx = np.unique(code.astype(str), return_inverse=True)
    ess, ess_ok = _skill_table(codes_u, 0, 12)
    opt, opt_ok = _skill_table(codes_u, 1, 10)
    req_mask = _gumbel_top(rng, ess_ok[code_idx].astype(float), rng.integers(0, 6, n))
    opt_mask = _gumbel_top(rng, opt_ok[code_idx].astype(float), rng.integers(0, 4, n))
    required = ["|".join(ess[ci][m]) for ci, m in zip(code_idx, req_mask)]
    optional = ["|".join(opt[ci][m]) for ci, m in zip(code_idx, opt_mask)]

    levels = schema.NORWEGIAN_LEVELS
    occ_nor = np.array([levels.index(o.norwegian) for o in occ], dtype=int)
    job_nor = np.clip(occ_nor + rng.choice([-1, 0, 0, 0, 1], size=n), 1, len(levels) - 2)
    trial_nor = rng.choice([0, 1, 2], size=n, p=[0.4, 0.3, 0.3])
    nor = np.array(levels)[np.where(is_trial, trial_nor, job_nor)]
    edu_levels = schema.EDUCATION_LEVELS
    occ_edu = np.array([edu_levels.index(o.education) for o in occ], dtype=int)
    edu = np.array(edu_levels)[np.where(is_trial, 0, np.where(rng.random(n) < 0.2, np.maximum(occ_edu - 1, 0), occ_edu))]
    extra_b = np.isin(code, ["5153", "8322", "7231", "5322"]) | (rng.random(n) < 0.06)
    licence = ["|".join(o.licence) if o.licence else ("B" if b else "") for o, b in zip(occ, extra_b)]

    extra_n = np.where(rng.random(n) < np.where(is_trial, 0.5, 0.25), rng.integers(1, 4, n), 0)
    extras = _gumbel_top(rng, np.ones(len(NEED_CODES)), extra_n)
    emp_offers = np.stack(employers["_offers"].to_numpy())[emp] if n_emp else np.zeros((n, len(NEED_CODES)), bool)
    extras &= ~emp_offers  # only what the employer does not already offer

    emp_postal = employers["postal_code"].to_numpy()[emp]
    moved = rng.random(n) < 0.12
    muni = pd.Series(emp_postal).map(region.set_index("postnummer")["kommunenummer_2025"]).to_numpy()
    other = np.where(moved, _sample_places(rng, region, "site", muni, key="kommunenummer_2025"), "")

    u = rng.random(n)
    titles = [o.titles[int(x * len(o.titles))] for o, x in zip(occ, u)]
    code_blank = rng.random(n) < 0.3
    # "(arbeidstrening)" only beside an explicit code: it can throw the title normaliser off.
    suffix = is_trial & ~code_blank & (rng.random(n) < 0.5)
    titles = [t + " (arbeidstrening)" if s else t for t, s in zip(titles, suffix)]

    return pd.DataFrame(
        {
            "opening_id": [f"O-{i + 1:05d}" for i in range(n)],
            "orgnr": employers["orgnr"].to_numpy()[emp],
            "kind": kind,
            "title": titles,
            "styrk08": np.where(code_blank, "", code.astype(str)),
            "required_skills": required,
            "optional_skills": optional,
            "required_licences": licence,
            "min_norwegian": nor,
            "min_education": edu,
            "hours_per_week": hours,
            "positions": positions,
            "postal_code": other,
            "start_date": np.where(start_blank, "", _days(start, start_day)),
            "deadline": np.where(deadline < 0, "", _days(start, np.maximum(deadline, 0))),
            "status": np.where(is_open, "open", "closed"),  # settled after the outcome simulation
            "adaptations_offered": _join(np.array(NEED_CODES), extras),
            "office_id": employers["office_id"].to_numpy()[emp],
            "published_at": _days(start, pub),
            "_code": code.astype(str),
            "_emp": emp,
            "_pub": pub,
            "_close": close,
            "_postal": np.where(moved, other, emp_postal),
            "_offers": list(emp_offers | extras),
        }
    )
