"""What the generated world is made of: offices, occupations, industries, real public employers.

Occupation titles are NAV's own registered titles (``reference/nav_job_titles.csv``) or STYRK-08
names, each checked to normalise back to its code (``tests/test_generate.py``), so an opening
written without a code still loads. Opening volumes combine the generator's own estimate of how
often NAV offices in Trøndelag see each occupation (``base``) with NAV's 2017 employer survey of
labour demand (``reference/nav_demand_2017.csv``)::

    weight = base × sqrt(1 + (trøndelag + norge / 20) / 50)

(norge / 20 is a prior for the sparse, rounded county figures). NACE subclasses are real SN2007
codes; their section letters come from ``reference/sn2007_subclasses.csv``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from matching.taxonomy._files import reference_path


@dataclass(frozen=True)
class Office:
    office_id: str
    name: str
    municipality_code: str
    postal_code: str


OFFICES: tuple[Office, ...] = (
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
    base: float  # relative number of openings a NAV office sees (the generator's estimate)
    part_time: float  # share of job openings below full time
    cluster: str  # occupations people often seek together
    licence: tuple[str, ...] = ()
    norwegian: str = "B1"
    education: str = "none"
    trial_ok: bool = True  # offered as arbeidstrening
    heavy: bool = False  # physically demanding: an uncovered TUNGE_LØFT need is a deal-breaker


OCCUPATIONS: tuple[Occupation, ...] = (
    Occupation(
        "5223",
        ("Butikkmedarbeider", "Butikkmedarbeider (bensinstasjon)", "Kioskmedarbeider", "Butikk-kasserer", "Selger (detalj)"),
        14,
        0.7,
        "sales",
    ),
    Occupation("5244", ("Telefonselger", "Abonnementselger"), 2, 0.5, "sales", norwegian="C1"),
    Occupation(
        "4222", ("Kundesentermedarbeider", "Kundebehandler (kundesenter)"), 3, 0.4, "office", norwegian="C1", education="upper_secondary"
    ),
    Occupation(
        "4321", ("Lagermedarbeider", "Lagerarbeider", "Lagerekspeditør", "Terminalarbeider (lager)"), 9, 0.3, "warehouse", heavy=True
    ),
    Occupation("9321", ("Håndpakker", "Pakker (for hånd)"), 2, 0.4, "warehouse", norwegian="A2"),
    Occupation("8344", ("Truckfører", "Truckfører (lager)"), 2, 0.1, "warehouse", heavy=True),
    Occupation("8322", ("Distribusjonssjåfør", "Varebilsjåfør", "Postsjåfør"), 3, 0.3, "driving", licence=("B",)),
    Occupation("8332", ("Lastebilsjåfør", "Trailersjåfør"), 2, 0.1, "driving", licence=("C", "CE"), education="vocational", trial_ok=False),
    Occupation("8331", ("Bussjåfør",), 1, 0.2, "driving", licence=("D",), norwegian="B2", trial_ok=False),
    Occupation(
        "5321",
        ("Helsefagarbeider", "Hjelpepleier", "Omsorgsarbeider"),
        9,
        0.75,
        "care",
        norwegian="B2",
        education="vocational",
        trial_ok=False,
        heavy=True,
    ),
    Occupation("5329", ("Pleieassistent", "Helseinstitusjonsassistent", "Sykehusbetjent"), 4, 0.7, "care", heavy=True),
    Occupation("5322", ("Personlig assistent", "Hjemmehjelp", "Avlaster"), 5, 0.8, "care"),
    Occupation(
        "2223",
        ("Sykepleier", "Sykepleier (psykisk helsearbeid)", "Poliklinikksykepleier"),
        2,
        0.55,
        "care",
        norwegian="C1",
        education="bachelor",
        trial_ok=False,
    ),
    Occupation(
        "2224", ("Vernepleier", "Miljøterapeut (vernepleier)"), 1, 0.5, "care", norwegian="C1", education="bachelor", trial_ok=False
    ),
    Occupation("9112", ("Renholder", "Forpleiningsassistent"), 8, 0.6, "cleaning", norwegian="A2", heavy=True),
    Occupation("5120", ("Kokk", "Institusjonskokk", "Hjelpekokk", "Pizzakokk"), 4, 0.4, "kitchen", norwegian="A2"),
    Occupation("9412", ("Kjøkkenassistent", "Kantinemedarbeider", "Serveringshjelp"), 6, 0.6, "kitchen", norwegian="A1"),
    Occupation(
        "5246",
        ("Gatekjøkkenmedarbeider", "Kafemedarbeider (servering)", "Restaurantmedarbeider (hamburgerbar)"),
        3,
        0.8,
        "kitchen",
        norwegian="A2",
    ),
    Occupation("5131", ("Servitør", "Frokostvert/-vertinne"), 3, 0.7, "kitchen"),
    Occupation("4224", ("Resepsjonist", "Nattportier"), 1, 0.5, "office", norwegian="B2", education="upper_secondary"),
    Occupation("7115", ("Tømrer", "Snekker", "Innredningsmontør"), 3, 0.05, "building", education="vocational", trial_ok=False, heavy=True),
    Occupation("9313", ("Hjelpearbeider (bygg)", "Hjelpearbeider i bygg"), 4, 0.1, "building", norwegian="A2", heavy=True),
    Occupation("7131", ("Maler", "Maler og byggtapetserer"), 1, 0.1, "building", heavy=True),
    Occupation("7126", ("Rørlegger", "VVS-montør"), 1, 0.05, "building", education="vocational", trial_ok=False),
    Occupation("7411", ("Elektriker", "Elmontør"), 2, 0.05, "building", education="vocational", trial_ok=False),
    Occupation("8342", ("Anleggsmaskinfører", "Gravemaskinkjører"), 1, 0.05, "building", licence=("B",), trial_ok=False),
    Occupation("8160", ("Operatør (næringsmiddelindustri)", "Produksjonsarbeider (kjøttindustri)"), 2, 0.1, "industry", heavy=True),
    Occupation("9329", ("Hjelpearbeider (industri)", "Vedlikeholdsarbeider (industri)"), 3, 0.1, "industry", norwegian="A2", heavy=True),
    Occupation("7512", ("Baker", "Konditor"), 1, 0.3, "industry"),
    Occupation("7212", ("Sveiser",), 1, 0.05, "industry", education="vocational", trial_ok=False),
    Occupation("6113", ("Gartner", "Anleggsgartner", "Planteskolearbeider"), 2, 0.3, "outdoor", norwegian="A2", heavy=True),
    Occupation("9612", ("Gjenvinningsarbeider", "Miljøoperatør (renovasjon)"), 2, 0.1, "outdoor", norwegian="A2", heavy=True),
    Occupation("5311", ("Barnehageassistent", "Barne- og ungdomsarbeider", "Skolefritidsassistent"), 4, 0.5, "children", norwegian="B2"),
    Occupation("5312", ("Skoleassistent",), 2, 0.8, "children", norwegian="B2"),
    Occupation(
        "2341", ("Grunnskolelærer", "Adjunkt (grunnskole)"), 1, 0.3, "children", norwegian="C1", education="bachelor", trial_ok=False
    ),
    Occupation(
        "4110", ("Kontormedarbeider", "Kontorassistent", "Ordremedarbeider"), 5, 0.4, "office", norwegian="B2", education="upper_secondary"
    ),
    Occupation("2512", ("Programvareutvikler", "Programmerer (data)"), 1, 0.05, "office", education="bachelor", trial_ok=False),
    Occupation("7231", ("Bilmekaniker", "Dekkmontør"), 2, 0.05, "outdoor", licence=("B",)),
    Occupation("5153", ("Vaktmester", "Ambulerende vaktmester"), 2, 0.3, "outdoor", licence=("B",)),
    Occupation("5414", ("Vekter", "Sikkerhetsvakt", "Ordensvakt"), 2, 0.4, "outdoor", norwegian="B2"),
)
OCC_BY_CODE: dict[str, Occupation] = {o.code: o for o in OCCUPATIONS}


@dataclass(frozen=True)
class Industry:
    key: str
    variants: tuple[tuple[str, tuple[str, ...]], ...]  # (SN2007 subclass, name templates with {place})
    occupations: tuple[tuple[str, float], ...]  # STYRK code, relative share of the industry's openings
    ia_propensity: float  # prior share of employers with an inclusive-workplace agreement
    invented: bool = True  # False: only the real public employers below are in this industry


INDUSTRIES: tuple[Industry, ...] = (
    Industry(
        "retail",
        (
            ("47.111", ("{place} Dagligvare", "Nærbutikken {place}", "{place} Matsenter")),
            ("47.521", ("{place} Byggevare", "{place} Byggsenter")),
            ("47.710", ("Klesbutikken {place}", "{place} Mote")),
        ),
        (("5223", 10), ("4321", 2), ("9112", 0.3)),
        0.35,
    ),
    Industry(
        "logistics",
        (("52.100", ("{place} Lager AS", "{place} Logistikk AS")), ("52.291", ("{place} Terminal AS", "Midt-Norge Spedisjon {place}"))),
        (("4321", 8), ("9321", 3), ("8344", 2), ("8322", 1)),
        0.2,
    ),
    Industry(
        "care",
        (
            ("87.102", ("{place} helse- og velferdssenter", "{place} sykehjem")),
            ("87.301", ("{place} omsorgssenter",)),
            ("87.203", ("{place} bofellesskap",)),
        ),
        (("5321", 8), ("5329", 4), ("2223", 3), ("9412", 1), ("9112", 1), ("2224", 1)),
        0.6,
    ),
    Industry(
        "homecare",
        (("88.101", ("{place} hjemmetjeneste", "{place} Omsorg AS")), ("86.901", ("{place} hjemmesykepleie",))),
        (("5322", 6), ("5321", 3), ("2223", 1), ("2224", 1)),
        0.5,
    ),
    Industry("cleaning", (("81.210", ("{place} Renhold AS", "{place} Rengjøring AS", "Rent & Pent {place}")),), (("9112", 10),), 0.45),
    Industry(
        "restaurant",
        (("56.101", ("Kafé {place}", "{place} Restaurant", "{place} Kro")), ("56.102", ("{place} Grill", "Gatekjøkkenet {place}"))),
        (("5120", 3), ("9412", 4), ("5246", 4), ("5131", 1)),
        0.3,
    ),
    Industry(
        "hotel", (("55.101", ("{place} Hotell", "Hotell {place}")),), (("5131", 3), ("4224", 2), ("9412", 2), ("9112", 2), ("5120", 1)), 0.3
    ),
    Industry(
        "construction",
        (
            ("41.200", ("{place} Bygg AS", "{place} Entreprenør AS")),
            ("43.341", ("{place} Malerservice AS",)),
            ("43.221", ("{place} Rør AS",)),
            ("42.110", ("{place} Anlegg AS",)),
        ),
        (("7115", 4), ("9313", 5), ("7131", 1), ("7126", 1), ("8342", 1)),
        0.25,
    ),
    Industry("electrical", (("43.210", ("{place} Elektro AS", "{place} Elektriske AS")),), (("7411", 4), ("9313", 1)), 0.2),
    Industry("freight", (("49.410", ("{place} Transport AS", "{place} Godstransport AS")),), (("8332", 4), ("4321", 1)), 0.2),
    Industry("courier", (("53.200", ("{place} Bud AS", "{place} Express AS")),), (("8322", 4), ("9321", 1)), 0.25),
    Industry("bus", (("49.391", ("{place} Buss AS", "{place} Rutebil AS")),), (("8331", 4),), 0.3),
    Industry(
        "municipal", (("84.110", ("{place} servicetorg", "{place} bydrift")),), (("4110", 3), ("5153", 2), ("9112", 2), ("9612", 1)), 0.7
    ),
    Industry(
        "callcentre", (("82.201", ("{place} Kundesenter AS",)), ("82.202", ("{place} Telesalg AS",))), (("4222", 3), ("5244", 3)), 0.3
    ),
    Industry(
        "food",
        (("10.110", ("{place} Kjøtt AS", "{place} Mat AS")), ("10.710", ("{place} Bakeri", "Bakeriet {place}"))),
        (("8160", 4), ("9329", 2), ("7512", 1), ("4321", 1)),
        0.2,
    ),
    Industry("metal", (("25.110", ("{place} Mek. Verksted AS", "{place} Stål AS")),), (("9329", 4), ("7212", 2)), 0.2),
    Industry("garden", (("81.300", ("{place} Anleggsgartner AS", "{place} Park og Hage AS")),), (("6113", 4), ("9313", 1)), 0.35),
    Industry("waste", (("38.110", ("{place} Gjenvinning AS", "{place} Renovasjon AS")),), (("9612", 4), ("8332", 1)), 0.3),
    Industry(
        "kindergarten", (("88.911", ("{place} barnehage", "{place} naturbarnehage")),), (("5311", 6), ("9412", 0.5), ("9112", 0.5)), 0.5
    ),
    Industry("school", (("85.201", ("{place} skole", "{place} barneskole")),), (("5312", 3), ("2341", 2), ("5311", 1), ("5153", 1)), 0.5),
    Industry("software", (("62.010", ("{place} Data AS", "{place} Software AS")),), (("2512", 4), ("4110", 1)), 0.15),
    Industry("garage", (("45.200", ("{place} Bilverksted AS", "{place} Dekksenter")),), (("7231", 4),), 0.25),
    Industry("property", (("68.320", ("{place} Eiendomsdrift AS", "{place} Vaktmesterservice AS")),), (("5153", 4), ("9112", 1)), 0.3),
    Industry("security", (("80.100", ("{place} Vakt AS", "{place} Sikkerhet AS")),), (("5414", 4),), 0.2),
    Industry(
        "hospital",
        (("86.101", ("{place} sykehus",)),),
        (("2223", 5), ("5321", 3), ("5329", 2), ("9112", 2), ("9412", 1), ("4110", 1)),
        0.4,
        invented=False,
    ),
    Industry(
        "university", (("85.421", ("{place} universitet",)),), (("4110", 3), ("9112", 1), ("5153", 1), ("2512", 1)), 0.5, invented=False
    ),
)
IND_BY_KEY: dict[str, Industry] = {i.key: i for i in INDUSTRIES}


@dataclass(frozen=True)
class PublicEmployer:
    """A real public employer in the region (Etatsbasen 2014, public register data)."""

    orgnr: str
    name: str
    industry: str
    postal_code: str
    size: float  # relative number of openings


#: Real organisation numbers and names of public employers in the offices' municipalities
#: (``../shared/data/derived/etatsbasen_employers_with_visit_address_geo.csv``). Everything the
#: generator says about them beyond name, number and address is invented.
PUBLIC_EMPLOYERS: tuple[PublicEmployer, ...] = (
    PublicEmployer("942110464", "Trondheim kommune", "municipal", "7004", 8.0),
    PublicEmployer("883974832", "St. Olavs Hospital HF", "hospital", "7030", 4.0),
    PublicEmployer("974767880", "NTNU - Norges teknisk-naturvitenskapelige universitet", "university", "7491", 2.0),
    PublicEmployer("938726027", "Melhus kommune", "municipal", "7224", 3.0),
    PublicEmployer("939958851", "Stjørdal kommune", "municipal", "7500", 3.0),
    PublicEmployer("971035560", "Malvik kommune", "municipal", "7550", 2.0),
    PublicEmployer("939865942", "Skaun kommune", "municipal", "7353", 1.5),
)
#: Municipalities' own openings also cover their care homes, kindergartens and schools.
MUNICIPAL_EXTRA = (("5321", 4), ("5322", 3), ("5311", 3), ("5312", 1), ("9412", 1))

#: Employers are named after their postal place; inside Trondheim (one postal place for most
#: of the city) after the nearest of these neighbourhoods (approximate centres).
TRONDHEIM_AREAS: dict[str, tuple[float, float]] = {
    "Midtbyen": (63.431, 10.395),
    "Bakklandet": (63.428, 10.408),
    "Ila": (63.432, 10.372),
    "Lade": (63.446, 10.445),
    "Leangen": (63.435, 10.468),
    "Valentinlyst": (63.425, 10.440),
    "Moholt": (63.410, 10.435),
    "Lerkendal": (63.412, 10.405),
    "Nardo": (63.404, 10.418),
    "Risvollan": (63.393, 10.433),
    "Sluppen": (63.395, 10.400),
    "Byåsen": (63.405, 10.350),
    "Stavne": (63.410, 10.370),
    "Kolstad": (63.360, 10.355),
    "Charlottenlund": (63.430, 10.500),
    "Tiller": (63.360, 10.380),
    "Heimdal": (63.350, 10.357),
    "Ranheim": (63.430, 10.540),
}
FIRST_NAMES = (
    "Kari",
    "Ola",
    "Ingrid",
    "Lars",
    "Marit",
    "Per",
    "Siri",
    "Jon",
    "Hanne",
    "Arne",
    "Nora",
    "Emil",
    "Sara",
    "Ali",
    "Fatima",
    "Tor",
    "Liv",
    "Magnus",
    "Ida",
    "Jonas",
)
LAST_NAMES = (
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Berg",
    "Haugen",
    "Moe",
    "Aune",
    "Lie",
    "Dahl",
    "Strand",
    "Solberg",
    "Rønning",
    "Krogstad",
    "Ahmed",
    "Nguyen",
)
TRUSTED = ("Mor", "Far", "Søster", "Bror", "Støttekontakt", "Verge", "Ektefelle", "Venn")


def demand_weight(code: str) -> float:
    """NAV's 2017 demand in Trøndelag (with the national figure as a prior) as a multiplier."""
    row = _demand().get(code)
    demand = 0.0 if row is None else row[0] + row[1] / 20.0
    return math.sqrt(1.0 + demand / 50.0)


@lru_cache(maxsize=1)
def _demand() -> dict[str, tuple[float, float]]:
    df = pd.read_csv(reference_path("nav_demand_2017.csv"), dtype={"styrk08": str})
    return {r.styrk08: (float(r.trondelag), float(r.norge)) for r in df.itertuples(index=False)}


@lru_cache(maxsize=1)
def nace_sections() -> dict[str, str]:
    """SN2007 subclass → section letter."""
    df = pd.read_csv(reference_path("sn2007_subclasses.csv"), dtype=str)
    return dict(zip(df["code"], df["section"]))
