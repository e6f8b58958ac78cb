"""Preferred industry (NACE section): no preference is neutral, a match is better."""
from __future__ import annotations

import numpy as np

from matching.criteria.base import Criterion, Evaluation
from matching.pairs import Pairs
from matching.world import NACE_SECTIONS

SECTIONS = NACE_SECTIONS
#: SN2007 section names (SSB, CC BY 4.0), bokmål and English.
SECTION_NAMES = {
    "A": ("jordbruk, skogbruk og fiske", "agriculture, forestry and fishing"),
    "B": ("bergverksdrift og utvinning", "mining and quarrying"),
    "C": ("industri", "manufacturing"),
    "D": ("elektrisitets-, gass- og varmtvannsforsyning", "electricity and gas supply"),
    "E": ("vannforsyning, avløp og renovasjon", "water supply, sewerage and waste"),
    "F": ("bygge- og anleggsvirksomhet", "construction"),
    "G": ("varehandel", "wholesale and retail trade"),
    "H": ("transport og lagring", "transport and storage"),
    "I": ("overnattings- og serveringsvirksomhet", "accommodation and food service"),
    "J": ("informasjon og kommunikasjon", "information and communication"),
    "K": ("finansiering og forsikring", "finance and insurance"),
    "L": ("omsetning og drift av fast eiendom", "real estate"),
    "M": ("faglig, vitenskapelig og teknisk tjenesteyting", "professional, scientific and technical services"),
    "N": ("forretningsmessig tjenesteyting", "administrative and support services"),
    "O": ("offentlig administrasjon og forsvar", "public administration and defence"),
    "P": ("undervisning", "education"),
    "Q": ("helse- og sosialtjenester", "health and social work"),
    "R": ("kulturell virksomhet, underholdning og fritid", "arts, entertainment and recreation"),
    "S": ("annen tjenesteyting", "other service activities"),
    "T": ("lønnet arbeid i private husholdninger", "households as employers"),
    "U": ("internasjonale organisasjoner", "extraterritorial organisations"),
}


def _evaluate(pairs: Pairs) -> Evaluation:
    prefs = pairs.world.participants.industry_mask[pairs.p]
    section = pairs.world.openings.section_index[pairs.o]
    level = np.where(prefs == 0, 1, np.where(prefs & (1 << section), 2, 0))
    return Evaluation(level, {"section": section, "prefs": prefs})


def _text(level: int, v, lang: str) -> str:
    name = SECTION_NAMES[SECTIONS[int(v["section"])]][1 if lang == "en" else 0]
    if level == 1:
        return f"No industry preference ({name})" if lang == "en" else f"Ingen bransjeønsker ({name})"
    if level == 2:
        return f"Preferred industry: {name}" if lang == "en" else f"Ønsket bransje: {name}"
    return f"Not a preferred industry: {name}" if lang == "en" else f"Ikke en ønsket bransje: {name}"


preference = Criterion(
    name="industry",
    levels=(
        {"nb": "ikke ønsket bransje", "en": "not a preferred industry"},
        {"nb": "ingen bransjeønsker", "en": "no preference"},
        {"nb": "ønsket bransje", "en": "preferred industry"},
    ),
    evaluate=_evaluate,
    reason=_text,
    description="opening's NACE section against the participant's preferred sections",
    uninformative=lambda v: int(v["prefs"]) == 0,
)

CRITERIA = [preference]
