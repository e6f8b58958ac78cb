"""The national scope: NAV-office-like units for all of Norway and real occupation frequencies.

Offices follow how NAV is organised: one office per municipality, district offices in the
big cities (Oslo's 15 bydeler, Bergen's 8 bydeler, the four Trondheim offices of the
Trondheim-area world), and municipalities with fewer than ``SMALL`` inhabitants share the
office of the nearest larger municipality in the same county (joint offices such as
"NAV Midt-Troms"). Names come from the real municipality and district names
(``reference/municipalities.csv``); every postal code with coordinates belongs to exactly one
office. People are placed by 2017 population per postal code, workplaces by population plus
a floor (business areas have few residents), so most of both are in and around Oslo, Bergen,
Trondheim and Stavanger, and few in Finnmark.

Occupations follow NAV's own figures for the generator's 40 STYRK-08 unit groups (about half
of all registered job seekers have one of them):

* participants' first wish ∝ registered job seekers per occupation in 2017
  (``reference/nav_jobseekers_2017.csv``);
* openings ∝ job seekers + k × the 2017 employer survey's national demand
  (``reference/nav_demand_2017.csv``), with k making both halves equally large: the stock of
  job seekers stands for an occupation's size and turnover, the survey for its shortage.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from matching.taxonomy._files import reference_path
from matching.taxonomy.places import haversine_km, postal_table
from worldgen.catalogue import OCCUPATIONS, OFFICES, TRONDHEIM_AREAS, Office

#: Municipalities below this population share a neighbour's office.
SMALL = 2000
STREET = ("Gate-/veg-adresse", "Gateadresser og postboksar")
TRONDHEIM = "5001"

#: District offices of the two largest cities (approximate district centres).
CITY_DISTRICTS: dict[str, dict[str, tuple[float, float]]] = {
    "0301": {  # Oslo
        "Gamle Oslo": (59.905, 10.785),
        "Grünerløkka": (59.926, 10.770),
        "Sagene": (59.937, 10.755),
        "St. Hanshaugen": (59.927, 10.738),
        "Frogner": (59.918, 10.705),
        "Ullern": (59.926, 10.655),
        "Vestre Aker": (59.960, 10.670),
        "Nordre Aker": (59.955, 10.760),
        "Bjerke": (59.940, 10.810),
        "Grorud": (59.960, 10.880),
        "Stovner": (59.962, 10.925),
        "Alna": (59.930, 10.855),
        "Østensjø": (59.887, 10.832),
        "Nordstrand": (59.862, 10.790),
        "Søndre Nordstrand": (59.835, 10.815),
    },
    "4601": {  # Bergen
        "Bergenhus": (60.395, 5.325),
        "Årstad": (60.370, 5.345),
        "Fana": (60.290, 5.330),
        "Ytrebygda": (60.297, 5.245),
        "Laksevåg": (60.385, 5.275),
        "Fyllingsdalen": (60.350, 5.290),
        "Åsane": (60.465, 5.325),
        "Arna": (60.420, 5.470),
    },
}


def slug(name: str) -> str:
    """ASCII id part of a Norwegian name: "Nord-Aurdal" → "nord-aurdal", "Bø" → "bo"."""
    s = name.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    out = "".join(c if c.isalnum() else "-" for c in s)
    return "-".join(p for p in out.split("-") if p)


@dataclass(frozen=True)
class NationalRegion:
    offices: tuple[Office, ...]
    postcodes: pd.DataFrame  # the generator's region table: one row per postal code


def _municipalities(points: pd.DataFrame) -> pd.DataFrame:
    """Municipalities that own postal codes with coordinates; a centre for each."""
    m = pd.read_csv(reference_path("municipalities.csv"), dtype={"kommunenummer": str}, encoding="utf-8")
    m = m[m["kommunenummer"].isin(set(points["kommunenummer_2025"]))].copy()
    mean = points.groupby("kommunenummer_2025")[["lat", "lon"]].mean()
    m["lat"] = m["lat"].fillna(m["kommunenummer"].map(mean["lat"]))
    m["lon"] = m["lon"].fillna(m["kommunenummer"].map(mean["lon"]))
    return m.sort_values("kommunenummer").reset_index(drop=True)


def _host_of(m: pd.DataFrame) -> dict[str, str]:
    """Municipality → the municipality whose office serves it (itself unless small)."""
    codes, county = m["kommunenummer"].to_numpy(), m["kommunenummer"].str[:2].to_numpy()
    big = m["population"].to_numpy() >= SMALL
    host = {}
    for i, code in enumerate(codes):
        candidates = np.flatnonzero(big & (county == county[i]))
        if big[i] or not len(candidates):
            host[code] = code
            continue
        d = haversine_km(m["lat"].iloc[i], m["lon"].iloc[i], m["lat"].to_numpy()[candidates], m["lon"].to_numpy()[candidates])
        host[code] = codes[candidates[int(d.argmin())]]
    return host


def _nearest(lat: np.ndarray, lon: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return haversine_km(lat[:, None], lon[:, None], centres[None, :, 0], centres[None, :, 1]).argmin(axis=1)


@lru_cache(maxsize=1)
def national_region() -> NationalRegion:
    """Every postal code with coordinates, its office and its weights; the offices."""
    table = postal_table().reset_index()
    pop = pd.to_numeric(table["folketal_2017"], errors="coerce").fillna(0.0)
    street = table["bruksomrade_2017"].isin(STREET)
    df = table.assign(home=np.where(street, pop, 0.0), site=np.where(street, pop + 50.0, 0.0))
    m = _municipalities(df)
    df = df[df["kommunenummer_2025"].isin(set(m["kommunenummer"]))].reset_index(drop=True)  # not Svalbard
    host = _host_of(m)
    name = dict(zip(m["kommunenummer"], m["name"]))
    pop_of = dict(zip(m["kommunenummer"], m["population"]))
    dup = m["name"].duplicated(keep=False)
    ids = {c: f"nav-{slug(n)}" + (f"-{c}" if d else "") for c, n, d in zip(m["kommunenummer"], m["name"], dup)}

    df["office_id"] = df["kommunenummer_2025"].map(lambda c: ids[host[c]])
    df["place"] = df["poststed"].str.title()
    offices: list[Office] = []
    lat, lon = df["lat"].to_numpy(), df["lon"].to_numpy()

    def office_postcode(rows: np.ndarray, at: tuple[float, float]) -> str:
        """The populated postal code nearest to a point, as the office's address."""
        ok = rows[df["home"].to_numpy()[rows] > 0]
        ok = ok if len(ok) else rows
        return df["postnummer"].iloc[ok[haversine_km(lat[ok], lon[ok], *at).argmin()]]

    districts = {
        **CITY_DISTRICTS,
        TRONDHEIM: {
            o.office_id: tuple(postal_table().loc[o.postal_code, ["lat", "lon"]]) for o in OFFICES if o.municipality_code == TRONDHEIM
        },
    }
    muni = df["kommunenummer_2025"].to_numpy()
    served_by = np.array([host[c] for c in muni])
    for code, areas in districts.items():
        rows = np.flatnonzero(served_by == code)  # the city and any small neighbours it serves
        own = muni[rows] == code
        labels = list(areas)
        near = _nearest(lat[rows], lon[rows], np.array(list(areas.values())))
        if code == TRONDHEIM:
            fixed = {o.office_id: o for o in OFFICES}
            df.iloc[rows, df.columns.get_loc("office_id")] = np.array(labels)[near]
            offices.extend(fixed[label] for label in labels)
            tn = np.array(list(TRONDHEIM_AREAS.values()))
            df.iloc[rows[own], df.columns.get_loc("place")] = np.array(list(TRONDHEIM_AREAS))[_nearest(lat[rows[own]], lon[rows[own]], tn)]
            continue
        city = slug(name[code])
        df.iloc[rows, df.columns.get_loc("office_id")] = np.array([f"nav-{city}-{slug(a)}" for a in labels])[near]
        df.iloc[rows[own], df.columns.get_loc("place")] = np.array(labels)[near[own]]
        for k, label in enumerate(labels):
            offices.append(
                Office(f"nav-{city}-{slug(label)}", f"NAV {label}", code, office_postcode(rows[(near == k) & own], areas[label]))
            )

    for code in sorted(set(host.values()) - set(districts)):
        members = sorted((c for c, h in host.items() if h == code), key=lambda c: (c != code, -pop_of[c], c))
        names = [name[c] for c in members]
        title = names[0] if len(names) == 1 else (", ".join(names[:-1]) + " og " + names[-1] if len(names) <= 3 else f"{names[0]} m.fl.")
        rows = np.flatnonzero(muni == code)
        centre = m.loc[m["kommunenummer"] == code, ["lat", "lon"]].iloc[0]
        offices.append(Office(ids[code], f"NAV {title}", code, office_postcode(rows, (float(centre["lat"]), float(centre["lon"])))))
    offices.sort(key=lambda o: o.office_id)
    df = df.sort_values("postnummer").reset_index(drop=True)
    return NationalRegion(tuple(offices), df)


# ---------------------------------------------------------------------------------------- occupations


@lru_cache(maxsize=1)
def jobseekers() -> dict[str, int]:
    """Registered job seekers per STYRK-08 unit group, 2017 monthly average (NAV)."""
    df = pd.read_csv(reference_path("nav_jobseekers_2017.csv"), dtype={"styrk08": str}, encoding="utf-8")
    return dict(zip(df["styrk08"], df["jobseekers_2017"].astype(int)))


@lru_cache(maxsize=1)
def national_demand() -> dict[str, float]:
    """NAV's 2017 employer survey: national demand per STYRK-08 unit group (0 where absent)."""
    df = pd.read_csv(reference_path("nav_demand_2017.csv"), dtype={"styrk08": str}, encoding="utf-8")
    return {r.styrk08: float(r.norge) for r in df.itertuples(index=False)}


def participant_weights() -> np.ndarray:
    """Weight of each catalogue occupation as a participant's first wish."""
    seekers = jobseekers()
    return np.array([float(seekers.get(o.code, 0)) + 1.0 for o in OCCUPATIONS])


def opening_weights() -> np.ndarray:
    """Weight of each catalogue occupation among openings (see the module docstring)."""
    seekers = np.array([float(jobseekers().get(o.code, 0)) for o in OCCUPATIONS])
    demand = np.array([national_demand().get(o.code, 0.0) for o in OCCUPATIONS])
    return seekers + demand * seekers.sum() / demand.sum() + 1.0
