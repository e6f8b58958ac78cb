"""A seeded, reproducible Trondheim-area world: offices, employers, openings, participants and
two years of outcome history. The fixtures in data/fixtures and every scale data set come
from here (`matching generate OUT_DIR`).

Geography, occupations, skills and adaptation codes are real reference data (postal codes
weighted by population, STYRK-08, ESCO skills, NAV's tilretteleggingsbehov); people,
employers and events are invented.

The outcome history is *not* produced by the engine's scoring formula (a model that
relearns its generator proves nothing). It comes from a separate behavioural model:

1. **Advisers suggest** openings with a noisy heuristic: among ~40 openings open at the
   time, weight ∝ exp(−km/12) × (4 if the 3-digit STYRK group is one the participant wants,
   else 1) × (0.2 if the kind is not what they want) × lognormal noise; 1–3 per suggestion.
2. **Hidden factors** the engine never sees: participant motivation m ~ N(0,1) with a
   random-walk drift over time; employer responsiveness r ~ N(0,1) (also behind the
   employer's recorded inclusion history, which the engine *can* see, noisily).
3. **True appeal** of a pair (a logit):
   u = −1.0 + 0.9·m + 0.7·r
       + occupational fit (1.3 same code / 0.8 same minor group / 0.35 same sub-major group,
         + 0.3·log1p(years of experience in the sub-major group))
       − 0.03·travel minutes (distance × 1.3 road factor at 50 km/h by car, or 22 km/h plus
         12 min waiting by public transport without a driving licence)
       − uncovered needs: physical 0.8 (universal design 1.4), working time 0.55, daily
         work life 0.35, Norwegian-language 0.25
       − 0.45 per CEFR step below the Norwegian requirement (halved if the workplace offers
         language adaptation), − 0.3 per education step below
       − 0.05 per weekly hour above the participant's maximum
       + 0.7 × share of required skills held
       + seasonality (July −0.6, December −0.4) + trend (+0.15 per year) + logistic noise.
4. **The funnel**: contacted with p = σ(u + 2.2 − 0.01·minutes) (else declined by the participant, likelier
   with long travel and low motivation); interview (job) or trial started (trial placement)
   with p = σ(u); hired with p = σ(u + 0.8·r − 0.3) while the opening still has a position
   free, else declined by the employer. Each step is 1–21 days after the previous one and
   never after the reference date.

Run `generate_world(...)` with the defaults to rebuild the fixtures byte for byte.
"""
from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from matching import schema
from matching.taxonomy import adaptations, skills
from matching.taxonomy.places import haversine_km, postal_table

REFERENCE_DATE = dt.date(2026, 11, 15)


@dataclass(frozen=True)
class Office:
    office_id: str
    name: str
    municipality_code: str
    postal_code: str


OFFICES = (
    Office("nav-heimdal", "NAV Heimdal", "5001", "7080"),
    Office("nav-lerkendal", "NAV Lerkendal", "5001", "7030"),
    Office("nav-falkenborg", "NAV Falkenborg", "5001", "7045"),
    Office("nav-midtbyen", "NAV Midtbyen", "5001", "7011"),
    Office("nav-melhus", "NAV Melhus", "5028", "7224"),
    Office("nav-skaun", "NAV Skaun", "5029", "7353"),
    Office("nav-malvik", "NAV Malvik", "5031", "7550"),
    Office("nav-stjordal", "NAV Stjørdal", "5035", "7500"),
    Office("nav-orkland", "NAV Orkland", "5059", "7300"),
)


@dataclass(frozen=True)
class Occupation:
    code: str
    titles: tuple[str, ...]
    industry: str  # key of INDUSTRIES
    weight: float
    part_time: float  # share of openings below full time
    licence: tuple[str, ...] = ()
    norwegian: str = "B1"
    education: str = "none"
    trial_ok: bool = True


#: The occupations a NAV office in Trøndelag works with most (weights ~ demand).
OCCUPATIONS = (
    Occupation("5223", ("Butikkmedarbeider", "Butikkansatt", "Ferskvaremedarbeider"), "retail", 12, 0.7),
    Occupation("4321", ("Lagermedarbeider", "Lagerarbeider", "Lagerekspeditør"), "logistics", 8, 0.3),
    Occupation("9321", ("Håndpakker", "Pakkeriarbeider"), "logistics", 2, 0.4),
    Occupation("5321", ("Helsefagarbeider", "Hjelpepleier", "Omsorgsarbeider"), "care", 10, 0.7, norwegian="B2", education="vocational", trial_ok=False),
    Occupation("5322", ("Hjemmehjelp", "Personlig assistent", "Avlaster"), "homecare", 5, 0.8),
    Occupation("2223", ("Sykepleier",), "hospital", 3, 0.5, norwegian="C1", education="bachelor", trial_ok=False),
    Occupation("9112", ("Renholder", "Renholdsoperatør", "Rengjøringsassistent"), "cleaning", 8, 0.6, norwegian="A2"),
    Occupation("5120", ("Kokk", "Kantinekokk", "Hjelpekokk"), "restaurant", 4, 0.4, norwegian="A2"),
    Occupation("9412", ("Kjøkkenassistent", "Kantinemedarbeider", "Oppvasker"), "restaurant", 6, 0.6, norwegian="A1"),
    Occupation("5131", ("Servitør",), "hotel", 3, 0.7),
    Occupation("7115", ("Tømrer", "Snekker"), "construction", 3, 0.05, education="vocational", trial_ok=False),
    Occupation("9313", ("Hjelpearbeider bygg", "Hjelpearbeider i bygg"), "construction", 4, 0.1, norwegian="A2"),
    Occupation("7411", ("Elektriker", "Elektromontør"), "electrical", 2, 0.05, education="vocational", trial_ok=False),
    Occupation("8332", ("Lastebilsjåfør", "Trailersjåfør"), "freight", 2, 0.1, licence=("CE",), trial_ok=False),
    Occupation("8322", ("Varebilsjåfør", "Distribusjonssjåfør", "Budbilsjåfør"), "courier", 3, 0.3, licence=("B",)),
    Occupation("8331", ("Bussjåfør",), "bus", 1, 0.2, licence=("D",), trial_ok=False),
    Occupation("4110", ("Kontormedarbeider", "Kontorassistent", "Kontorfullmektig"), "municipal", 5, 0.4, norwegian="B2", education="upper_secondary"),
    Occupation("4222", ("Kundeservicemedarbeider", "Kundesentermedarbeider"), "callcentre", 3, 0.4, norwegian="C1"),
    Occupation("8160", ("Produksjonsmedarbeider næringsmiddel", "Operatør næringsmiddelindustri"), "food", 2, 0.1),
    Occupation("9329", ("Produksjonsarbeider", "Hjelpearbeider industri"), "metal", 3, 0.1, norwegian="A2"),
    Occupation("6113", ("Gartner", "Anleggsgartner"), "garden", 2, 0.3, norwegian="A2"),
    Occupation("5311", ("Barnehageassistent", "Barne- og ungdomsarbeider"), "kindergarten", 4, 0.5, norwegian="B2"),
    Occupation("5312", ("Skoleassistent", "Skolefritidsassistent"), "school", 2, 0.8, norwegian="B2"),
    Occupation("2512", ("Programvareutvikler", "Utvikler"), "software", 1, 0.05, norwegian="B1", education="bachelor", trial_ok=False),
    Occupation("7231", ("Bilmekaniker", "Dekkmontør"), "garage", 2, 0.05, licence=("B",)),
    Occupation("9622", ("Altmuligmann", "Vedlikeholdsassistent"), "property", 2, 0.4, licence=("B",)),
    Occupation("5414", ("Vekter", "Sikkerhetsvakt"), "security", 2, 0.3, norwegian="B2"),
)
OCC_BY_CODE = {o.code: o for o in OCCUPATIONS}

#: industry → (NACE subclass, section, employer name suffixes, inclusion propensity)
INDUSTRIES = {
    "retail": ("47.111", "G", ("Dagligvare", "Matsenter", "Handel AS"), 0.4),
    "logistics": ("52.100", "H", ("Logistikk AS", "Lager AS", "Terminal AS"), 0.2),
    "care": ("87.101", "Q", ("helse- og velferdssenter", "sykehjem"), 0.6),
    "homecare": ("88.101", "Q", ("hjemmetjeneste", "Omsorg AS"), 0.5),
    "hospital": ("86.101", "Q", ("Sykehus avdeling", "Helsehus"), 0.3),
    "cleaning": ("81.210", "N", ("Renhold AS", "Service AS"), 0.5),
    "restaurant": ("56.101", "I", ("Kafé", "Kro", "Restaurant"), 0.4),
    "hotel": ("55.101", "I", ("Hotell",), 0.3),
    "construction": ("41.200", "F", ("Bygg AS", "Entreprenør AS"), 0.3),
    "electrical": ("43.210", "F", ("Elektro AS",), 0.2),
    "freight": ("49.410", "H", ("Transport AS",), 0.2),
    "courier": ("53.200", "H", ("Bud AS", "Express AS"), 0.3),
    "bus": ("49.391", "H", ("Buss AS",), 0.3),
    "municipal": ("84.110", "O", ("kommune servicetorg",), 0.7),
    "callcentre": ("82.201", "N", ("Kundesenter AS",), 0.3),
    "food": ("10.110", "C", ("Kjøtt AS", "Mat AS"), 0.2),
    "metal": ("25.110", "C", ("Mek. Verksted AS", "Stål AS"), 0.2),
    "garden": ("81.300", "N", ("Anleggsgartner AS", "Hagesenter"), 0.4),
    "kindergarten": ("88.911", "Q", ("barnehage",), 0.5),
    "school": ("85.201", "P", ("skole",), 0.5),
    "software": ("62.010", "J", ("Data AS", "Software AS"), 0.2),
    "garage": ("45.200", "G", ("Bilverksted AS", "Dekksenter"), 0.3),
    "property": ("68.320", "L", ("Eiendomsdrift AS", "Vaktmesterservice AS"), 0.3),
    "security": ("80.100", "N", ("Vakt AS", "Sikkerhet AS"), 0.2),
}
#: Other occupations an employer in the industry advertises (mixed into its openings).
SIDE_JOBS = {"retail": ("4321",), "care": ("5322", "9412", "9112"), "hotel": ("9412", "9112", "5120"),
             "municipal": ("9622", "9112"), "food": ("9329", "4321"), "logistics": ("9321", "8322"),
             "hospital": ("5321", "9112"), "kindergarten": ("9412",), "school": ("9622",)}

#: Uncovered-need penalties by category in the behavioural model (not the engine's weights).
NEED_PENALTY = {"fysisk": 0.8, "arbeidstid": 0.55, "arbeidshverdagen": 0.35, "utfordringerMedNorsk": 0.25}
PLACE_WORDS = {"5001": ("Heimdal", "Tiller", "Saupstad", "Byåsen", "Lade", "Moholt", "Sluppen", "Midtbyen",
                        "Nardo", "Ranheim", "Kolstad", "Flatåsen"),
               "5028": ("Melhus", "Gimse", "Korsvegen"), "5029": ("Børsa", "Buvika"), "5031": ("Hommelvik", "Vikhammer"),
               "5035": ("Stjørdal", "Hegra", "Lånke"), "5059": ("Orkanger", "Fannrem", "Thamshavn")}
TRUSTED = ("Mor", "Far", "Søster", "Bror", "Støttekontakt", "Verge", "Ektefelle")
ADVISER_ACTORS = 4


def orgnr_with_check(rng: np.random.Generator) -> str:
    while True:
        body = "9" + "".join(str(d) for d in rng.integers(0, 10, size=7))
        weights = (3, 2, 7, 6, 5, 4, 3, 2)
        rem = sum(int(d) * w for d, w in zip(body, weights)) % 11
        check = 0 if rem == 0 else 11 - rem
        if check != 10:
            return body + str(check)


# ---------------------------------------------------------------------------------------- places


def _region_postcodes() -> pd.DataFrame:
    """Postal codes with coordinates in the offices' municipalities, each with its office."""
    table = postal_table().reset_index()
    munis = {o.municipality_code for o in OFFICES}
    df = table[table["kommunenummer_2025"].isin(munis)].copy()
    df["pop"] = pd.to_numeric(df["folketal_2017"], errors="coerce").fillna(0.0) + 20.0
    office_pts = {o.office_id: postal_table().loc[o.postal_code] for o in OFFICES}
    # Trondheim's four offices split the city by nearest office; others own their municipality.
    df["office_id"] = ""
    for muni in munis:
        in_muni = df["kommunenummer_2025"] == muni
        offices = [o for o in OFFICES if o.municipality_code == muni]
        if len(offices) == 1:
            df.loc[in_muni, "office_id"] = offices[0].office_id
            continue
        dists = np.stack([haversine_km(df.loc[in_muni, "lat"], df.loc[in_muni, "lon"],
                                       office_pts[o.office_id]["lat"], office_pts[o.office_id]["lon"])
                          for o in offices])
        df.loc[in_muni, "office_id"] = np.array([o.office_id for o in offices])[dists.argmin(axis=0)]
    return df.sort_values("postnummer").reset_index(drop=True)


def _sample_postcodes(rng, region: pd.DataFrame, n: int, office_ids: np.ndarray | None = None) -> np.ndarray:
    if office_ids is None:
        p = region["pop"].to_numpy() / region["pop"].sum()
        return region["postnummer"].to_numpy()[rng.choice(len(region), size=n, p=p)]
    out = np.empty(n, dtype=object)
    for office, rows in region.groupby("office_id").indices.items():
        mask = office_ids == office
        if mask.any():
            w = region["pop"].to_numpy()[rows]
            out[mask] = region["postnummer"].to_numpy()[rng.choice(rows, size=mask.sum(), p=w / w.sum())]
    return out


# ---------------------------------------------------------------------------------------- entities


def _employers(rng, region: pd.DataFrame, n: int) -> pd.DataFrame:
    ind_names = list(INDUSTRIES)
    occ_weight = {k: 0.0 for k in ind_names}
    for o in OCCUPATIONS:
        occ_weight[o.industry] += o.weight
    w = np.array([occ_weight[k] for k in ind_names])
    industry = np.array(ind_names)[rng.choice(len(ind_names), size=n, p=w / w.sum())]
    postal = _sample_postcodes(rng, region, n)
    loc = region.set_index("postnummer")
    responsiveness = rng.normal(0, 1, n)
    codes = tuple(adaptations.needs())
    category = np.array([adaptations.needs()[c].category for c in codes])
    rows, seen_names, seen_orgnr = [], set(), set()
    for i in range(n):
        nace, section, suffixes, propensity = INDUSTRIES[industry[i]]
        muni = loc.loc[postal[i], "kommunenummer_2025"]
        place = rng.choice(PLACE_WORDS.get(muni, (str(loc.loc[postal[i], "poststed"]).title(),)))
        name = f"{place} {rng.choice(suffixes)}"
        k = 2
        while name in seen_names:
            name = f"{place} {rng.choice(suffixes)} {k}"
            k += 1
        seen_names.add(name)
        orgnr = orgnr_with_check(rng)
        while orgnr in seen_orgnr:
            orgnr = orgnr_with_check(rng)
        seen_orgnr.add(orgnr)
        ia = rng.random() < propensity
        n_offer = int(np.clip(rng.poisson(1.0 + 3.0 * ia + 1.0 * responsiveness[i].clip(0)), 0, len(codes)))
        cat_w = np.where(category == "utfordringerMedNorsk", 0.5, 1.0)
        offered = sorted(rng.choice(codes, size=n_offer, replace=False, p=cat_w / cat_w.sum())) if n_offer else []
        trials = int(rng.poisson(2 + 6 * ia + 2 * max(responsiveness[i], 0)))
        rate = 1 / (1 + math.exp(-(-0.9 + 0.9 * responsiveness[i])))
        hires = int(rng.binomial(trials, rate)) if trials else 0
        office = loc.loc[postal[i], "office_id"]
        first = rng.choice(("Kari", "Ola", "Ingrid", "Lars", "Marit", "Per", "Siri", "Jon", "Hanne", "Arne"))
        last = rng.choice(("Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Moe", "Aune", "Lie", "Dahl"))
        rows.append({
            "orgnr": orgnr, "name": name, "nace": nace, "nace_section": section, "postal_code": postal[i],
            "office_id": office, "adaptations_offered": "|".join(offered),
            "inclusive_workplace_agreement": "true" if ia else "false",
            "past_trial_placements": trials, "past_hires_after_trial": hires,
            "contact_name": f"{first} {last}",
            "contact_email": f"{first.lower()}.{last.lower()}@{name.lower().replace(' ', '').replace('.', '')[:18]}.example.no",
            "_industry": industry[i], "_r": responsiveness[i],
        })
    return pd.DataFrame(rows)


def _openings(rng, employers: pd.DataFrame, region: pd.DataFrame, n: int, start: dt.date) -> pd.DataFrame:
    span = (REFERENCE_DATE - start).days
    n_recent = int(round(n * 0.35))
    published = np.concatenate([rng.integers(0, span - 120, n - n_recent), rng.integers(span - 120, span + 1, n_recent)])
    published = np.sort(published)
    size = rng.lognormal(0, 0.8, len(employers))
    emp = rng.choice(len(employers), size=n, p=size / size.sum())
    codes = tuple(adaptations.needs())
    loc = region.set_index("postnummer")
    rows = []
    for i in range(n):
        e = employers.iloc[emp[i]]
        ind = e["_industry"]
        own = [o.code for o in OCCUPATIONS if o.industry == ind]
        pool = own + list(SIDE_JOBS.get(ind, ()))
        pw = np.array([OCC_BY_CODE[c].weight * (3 if c in own else 1) for c in pool], dtype=float)
        occ = OCC_BY_CODE[pool[rng.choice(len(pool), p=pw / pw.sum())]]
        kind = "trial" if occ.trial_ok and rng.random() < 0.3 else "job"
        pub = start + dt.timedelta(days=int(published[i]))
        age = (REFERENCE_DATE - pub).days
        if age <= 120 and rng.random() < 0.92:
            status = "open"
        else:
            status = "filled" if rng.random() < 0.7 else "closed"
        if kind == "trial" or rng.random() < 0.4:
            deadline = None
        elif status == "open":
            deadline = REFERENCE_DATE + dt.timedelta(days=int(rng.integers(7, 151)))
        else:
            deadline = pub + dt.timedelta(days=int(rng.integers(14, 60)))
        if occ.part_time > rng.random():
            hours = float(rng.choice([10, 15, 20, 22.5, 26.25, 30]))
        else:
            hours = 37.5
        ess, opt = skills.occupation_skills(occ.code)
        n_req = int(rng.integers(0, min(6, len(ess)) + 1))
        required = list(rng.choice(ess[:12], size=min(n_req, len(ess[:12])), replace=False)) if ess else []
        optional = list(rng.choice(opt[:10], size=min(int(rng.integers(0, 4)), len(opt[:10])), replace=False)) if opt else []
        licence = list(occ.licence)
        if not licence and rng.random() < 0.08:
            licence = ["B"]
        nor = occ.norwegian if kind == "job" else rng.choice(["none", "A1", "A2"])
        edu = occ.education if kind == "job" else "none"
        extra = list(rng.choice(codes, size=int(rng.integers(1, 3)), replace=False)) if rng.random() < 0.3 else []
        other_place = rng.random() < 0.12
        if other_place:
            same_muni = region[region["kommunenummer_2025"] == loc.loc[e["postal_code"], "kommunenummer_2025"]]
            postal = same_muni["postnummer"].iloc[int(rng.integers(0, len(same_muni)))]
        rows.append({
            "opening_id": f"O-{i + 1:05d}", "orgnr": e["orgnr"], "kind": kind,
            "title": rng.choice(occ.titles) + (" (arbeidstrening)" if kind == "trial" and rng.random() < 0.5 else ""),
            "styrk08": occ.code if rng.random() > 0.3 else "",
            "required_skills": "|".join(required), "optional_skills": "|".join(optional),
            "required_licences": "|".join(licence), "min_norwegian": nor, "min_education": edu,
            "hours_per_week": hours, "positions": int(1 + rng.poisson(0.6 if kind == "job" else 0.3)),
            "postal_code": postal if other_place else "",
            "start_date": (pub + dt.timedelta(days=int(rng.integers(14, 46)))).isoformat(),
            "deadline": deadline.isoformat() if deadline else "", "status": status,
            "adaptations_offered": "|".join(sorted(set(extra))), "office_id": e["office_id"],
            "published_at": pub.isoformat(),
            "_code": occ.code, "_emp": int(emp[i]), "_pub": int(published[i]),
            "_close": int(published[i]) + (int(rng.integers(30, 120)) if status != "open" else span - int(published[i]) + 1),
        })
    return pd.DataFrame(rows)


def _typo(rng, title: str) -> str:
    r = rng.random()
    if r < 0.25:
        return title.lower()
    if r < 0.35 and len(title) > 6:
        i = int(rng.integers(1, len(title) - 1))
        return title[:i] + title[i + 1:]
    if r < 0.45:
        return title + ("e" if title.endswith("er") else "")
    return title


def _participants(rng, region: pd.DataFrame, n: int, start: dt.date) -> pd.DataFrame:
    span = (REFERENCE_DATE - start).days
    office_w = region.groupby("office_id")["pop"].sum()
    office_ids = office_w.index.to_numpy()[rng.choice(len(office_w), size=n, p=(office_w / office_w.sum()).to_numpy())]
    postal = _sample_postcodes(rng, region, n, office_ids)
    occ_codes = [o.code for o in OCCUPATIONS]
    occ_w = np.array([o.weight for o in OCCUPATIONS])
    needs = adaptations.needs()
    need_codes = np.array(list(needs))
    need_cat = np.array([needs[c].category for c in need_codes])
    rows = []
    for i in range(n):
        k = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
        desired = list(dict.fromkeys(occ_codes[j] for j in rng.choice(len(occ_codes), size=k, p=occ_w / occ_w.sum())))
        codes_given = rng.random() < 0.5
        titles = [str(rng.choice(OCC_BY_CODE[c].titles)) for c in desired]
        # Typos only where a code was also registered or another title is clean, so every
        # participant stays recognisable (the loader rejects a profile with no known title).
        titles = [t if (j == 0 and not codes_given) else _typo(rng, t) for j, t in enumerate(titles)]
        exp = []
        if rng.random() < 0.6:
            for c in rng.choice(desired + occ_codes[:5], size=int(rng.integers(1, 3)), replace=False):
                exp.append(f"{c}:{round(float(rng.gamma(1.5, 2.0)), 1)}")
        ess = [s for c in desired for s in skills.occupation_skills(c)[0][:10]]
        held = sorted(set(rng.choice(ess, size=int(rng.integers(0, min(8, len(ess)) + 1)), replace=False))) if ess else []
        limited = rng.random() < 0.22
        norwegian = rng.choice(["none", "A1", "A2", "B1"]) if limited else rng.choice(["B2", "C1", "native"], p=[0.2, 0.2, 0.6])
        education = rng.choice(schema.EDUCATION_LEVELS, p=[0.05, 0.3, 0.25, 0.2, 0.15, 0.05])
        licences = []
        if rng.random() < 0.62:
            licences = ["B"] + (["C", "CE"] if rng.random() < 0.1 else []) + (["D"] if rng.random() < 0.03 else [])
        commute = float(rng.choice([15, 20, 25, 30, 40, 50, 60])) if licences else float(rng.choice([5, 8, 10, 15, 20, 25]))
        part = rng.random() < 0.3
        max_hours = float(rng.choice([15, 20, 24, 30])) if part else 37.5
        goal = rng.choice(["job", "trial", "either"], p=[0.4, 0.25, 0.35])
        has_needs = rng.random() < 0.65
        chosen: list[str] = []
        if has_needs:
            w = np.where(need_cat == "utfordringerMedNorsk", 3.0 if limited else 0.1, 1.0)
            chosen = sorted(rng.choice(need_codes, size=int(rng.choice([1, 2, 3, 4], p=[0.35, 0.3, 0.2, 0.15])),
                                       replace=False, p=w / w.sum()))
        registered = start + dt.timedelta(days=int(rng.integers(0, span - 30)))
        available = registered + dt.timedelta(days=int(rng.integers(0, 60))) if rng.random() < 0.3 else None
        prefs = sorted(set(rng.choice(list("GHIQNCF"), size=int(rng.integers(1, 3))))) if rng.random() < 0.3 else []
        rows.append({
            "postal_code": postal[i], "max_commute_km": commute, "desired_titles": "|".join(titles),
            "desired_styrk08": "|".join(desired) if codes_given else "",
            "skills": "|".join(held), "experience": "|".join(exp), "education_level": education,
            "norwegian_level": norwegian, "driving_licences": "|".join(licences), "max_hours_per_week": max_hours,
            "wants_part_time": "true" if part else "false", "available_from": available.isoformat() if available else "",
            "goal": goal, "adaptation_needs": "|".join(chosen),
            "shares_needs_with_employers": "true" if chosen and rng.random() < 0.4 else "false",
            "preferred_industries": "|".join(prefs),
            "trusted_person": rng.choice(TRUSTED) if rng.random() < 0.1 else "",
            "participant_id": f"P-{i + 1:06d}", "office_id": office_ids[i], "registered_at": registered.isoformat(),
            "_desired": desired, "_exp": exp, "_reg": (registered - start).days, "_limited": limited,
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------- outcomes


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _outcomes(rng, participants, openings, employers, region, start: dt.date, per_participant: float) -> pd.DataFrame:
    span = (REFERENCE_DATE - start).days
    loc = region.set_index("postnummer")[["lat", "lon"]]
    emp_loc = employers.set_index("orgnr")["postal_code"]
    o_postal = np.where(openings["postal_code"] != "", openings["postal_code"], openings["orgnr"].map(emp_loc))
    o_lat, o_lon = loc.loc[o_postal, "lat"].to_numpy(), loc.loc[o_postal, "lon"].to_numpy()
    p_lat, p_lon = loc.loc[participants["postal_code"], "lat"].to_numpy(), loc.loc[participants["postal_code"], "lon"].to_numpy()
    o_code = openings["_code"].astype(int).to_numpy()
    o_kind = openings["kind"].to_numpy()
    o_pub, o_close = openings["_pub"].to_numpy(), openings["_close"].to_numpy()
    order = np.argsort(o_pub, kind="stable")
    pub_sorted = o_pub[order]
    emp_idx = openings["_emp"].to_numpy()
    r = employers["_r"].to_numpy()[emp_idx]
    offered = [set(a.split("|")) | set(b.split("|")) - {""}
               for a, b in zip(openings["adaptations_offered"], employers["adaptations_offered"].to_numpy()[emp_idx])]
    nor_rank = {lv: i for i, lv in enumerate(schema.NORWEGIAN_LEVELS)}
    edu_rank = {lv: i for i, lv in enumerate(schema.EDUCATION_LEVELS)}
    o_nor = openings["min_norwegian"].map(nor_rank).to_numpy()
    o_edu = openings["min_education"].map(edu_rank).to_numpy()
    o_hours = openings["hours_per_week"].to_numpy(float)
    o_req = [set(s.split("|")) - {""} for s in openings["required_skills"]]
    needs_meta = adaptations.needs()
    filled = np.zeros(len(openings), dtype=int)
    positions = openings["positions"].to_numpy()

    n = len(participants)
    motivation = rng.normal(0, 1, n)
    events = []
    n_sugg = rng.poisson(per_participant, n)
    for i in range(n):
        p = participants.iloc[i]
        desired = np.array([int(c) for c in p["_desired"]])
        exp = [(int(x.split(":")[0]), float(x.split(":")[1])) for x in p["_exp"]]
        has_car = "B" in p["driving_licences"].split("|")
        needs = [c for c in p["adaptation_needs"].split("|") if c]
        p_nor, p_edu = nor_rank[p["norwegian_level"]], edu_rank[p["education_level"]]
        p_skills = set(p["skills"].split("|")) - {""}
        times = np.sort(rng.integers(p["_reg"], span, size=n_sugg[i])) if p["_reg"] < span else []
        for t in times:
            lo, hi = np.searchsorted(pub_sorted, t - 150), np.searchsorted(pub_sorted, t, side="right")
            if hi <= lo:
                continue
            cand = order[rng.integers(lo, hi, size=min(40, hi - lo))]
            cand = np.unique(cand[o_close[cand] > t])
            if len(cand) == 0:
                continue
            km = haversine_km(p_lat[i], p_lon[i], o_lat[cand], o_lon[cand])
            related = (o_code[cand, None] // 10 == desired[None, :] // 10).any(axis=1)
            kind_ok = (p["goal"] == "either") | (o_kind[cand] == p["goal"])
            w = np.exp(-km / 12) * np.where(related, 4.0, 1.0) * np.where(kind_ok, 1.0, 0.2) * rng.lognormal(0, 0.5, len(cand))
            k = min(int(rng.integers(1, 4)), len(cand))
            picks = cand[np.argsort(-w)[:k]]
            for o in picks:
                events.extend(_funnel(rng, i, o, t, p, desired, exp, has_car, needs, needs_meta, offered[o], p_nor, p_edu,
                                      p_skills, o_req[o], o_nor[o], o_edu[o], o_hours[o], o_code[o], o_kind[o],
                                      float(haversine_km(p_lat[i], p_lon[i], o_lat[o], o_lon[o])),
                                      motivation[i] + 0.25 * (t - p["_reg"]) / 365 * rng.normal(), r[o],
                                      filled, positions, span, start, openings["opening_id"].iat[o]))
    return pd.DataFrame(events, columns=["event_id", "participant_id", "opening_id", "event", "reason", "occurred_at", "actor"])


def _funnel(rng, i, o, t, p, desired, exp, has_car, needs, needs_meta, offered, p_nor, p_edu, p_skills, req, o_nor, o_edu,
            o_hours, o_code, o_kind, km, motivation, resp, filled, positions, span, start, opening_id) -> list[list]:
    fit = 0.0
    if (desired == o_code).any():
        fit += 1.3
    elif (desired // 10 == o_code // 10).any():
        fit += 0.8
    elif (desired // 100 == o_code // 100).any():
        fit += 0.35
    fit += 0.3 * math.log1p(sum(y for c, y in exp if c // 100 == o_code // 100))
    minutes = km * 1.3 / 50 * 60 if has_car else km * 1.3 / 22 * 60 + 12
    uncovered = [c for c in needs if c not in offered]
    need_pen = sum(1.4 if c == "UNIVERSELL_UTFORMING" else NEED_PENALTY[needs_meta[c].category] for c in uncovered)
    lang_gap = max(0, o_nor - p_nor) * 0.45 * (0.5 if offered & {"SNAKKE", "LESE", "SKRIVE"} else 1.0)
    edu_gap = max(0, o_edu - p_edu) * 0.3
    hours_over = max(0.0, o_hours - float(p["max_hours_per_week"])) * 0.05
    skill_share = len(p_skills & req) / len(req) if req else 1.0
    month = (start + dt.timedelta(days=int(t))).month
    season = -0.6 if month == 7 else (-0.4 if month == 12 else 0.0)
    u = (-1.0 + 0.9 * motivation + 0.7 * resp + fit - 0.03 * minutes - need_pen - lang_gap - edu_gap - hours_over
         + 0.7 * skill_share + season + 0.15 * t / 365 + rng.logistic(0, 1) * 0.6)

    pid = p["participant_id"]
    adviser = f"veileder-{p['office_id'].removeprefix('nav-')}-{1 + i % ADVISER_ACTORS}"
    out = []
    day = float(t)

    def emit(event: str, actor: str, reason: str = "") -> bool:
        nonlocal day
        if day > span:
            return False
        when = dt.datetime.combine(start, dt.time(8)) + dt.timedelta(days=day, minutes=int(rng.integers(0, 480)))
        out.append(["", pid, opening_id, event, reason, when.isoformat(timespec="minutes"), actor])
        day += float(rng.integers(1, 22))
        return True

    emit("suggested", adviser)
    if rng.random() > _sigmoid(u + 2.2 - 0.01 * minutes):
        emit("declined_by_participant", adviser, "for lang reisevei" if minutes > 40 else "ønsket ikke å gå videre")
        return out
    if not emit("contacted", adviser):
        return out
    if rng.random() > _sigmoid(u):
        emit("declined_by_employer", "employer", "valgte en annen kandidat")
        return out
    if not emit("trial_started" if o_kind == "trial" else "interview", "employer"):
        return out
    if filled[o] < positions[o] and rng.random() < _sigmoid(u + 0.8 * resp - 0.3):
        if emit("hired", "employer"):
            filled[o] += 1
    elif rng.random() < 0.6:
        emit("declined_by_employer", "employer", "stillingen ble besatt" if filled[o] >= positions[o] else "ikke aktuell nå")
    return out


# ---------------------------------------------------------------------------------------- output


def _write(df: pd.DataFrame, path: Path, model: type) -> int:
    ids = {"participant_id", "office_id", "registered_at"} if model is schema.Participant else set()
    cols = [c for c in model.model_fields if c in ids] + [c for c in model.model_fields if c not in ids]
    df = df.reindex(columns=cols).fillna("")
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(cols)
        for row in df.itertuples(index=False):
            writer.writerow(["" if v is None else (f"{v:g}" if isinstance(v, float) else v) for v in row])
    return len(df)


def generate_world(
    out_dir: Path,
    *,
    seed: int = 2013,
    n_participants: int = 180,
    n_employers: int = 75,
    n_openings: int = 420,
    years: float = 2.0,
    suggestions_per_participant: float = 5.0,
) -> dict[str, int]:
    """Write offices/employers/openings/participants/outcomes .csv; returns row counts."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    start = REFERENCE_DATE - dt.timedelta(days=int(round(365 * years)))
    region = _region_postcodes()
    offices = pd.DataFrame([o.__dict__ for o in OFFICES])
    employers = _employers(rng, region, n_employers)
    openings = _openings(rng, employers, region, n_openings, start)
    participants = _participants(rng, region, n_participants, start)
    outcomes = _outcomes(rng, participants, openings, employers, region, start, suggestions_per_participant)
    return {
        "offices": _write(offices, out_dir / "offices.csv", schema.Office),
        "employers": _write(employers, out_dir / "employers.csv", schema.Employer),
        "openings": _write(openings, out_dir / "openings.csv", schema.Opening),
        "participants": _write(participants, out_dir / "participants.csv", schema.Participant),
        "outcomes": _write(outcomes, out_dir / "outcomes.csv", schema.Outcome),
    }
