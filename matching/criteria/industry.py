"""Preferred industry (NACE section): no preference is neutral, a match is better."""

from __future__ import annotations

import numpy as np

from matching.criteria.base import Criterion, Levels, PairValues, Values, by_classes, t
from matching.pairs import Pairs
from matching.world import NACE_SECTIONS

PREFERENCE = Levels.categories("industry", 3, neutral=1)  # not preferred, no preference (neutral), preferred
SECTIONS = NACE_SECTIONS


def _level_of(prefs: np.ndarray, section: np.ndarray) -> np.ndarray:
    return np.where(prefs == 0, 1, np.where(prefs & (1 << section), 2, 0))


def _level(pairs: Pairs) -> np.ndarray:
    """`_level_of` each pair's preferences and section, from a table of the distinct
    preference masks × sections (`base.by_classes`)."""
    w = pairs.world
    return by_classes(pairs, "industry", lambda: w.participants.industry_mask, lambda: w.openings.section_index, _level_of)


def _values(pairs: Pairs) -> Values:
    return {"section": pairs.world.openings.section_index[pairs.o], "prefs": pairs.world.participants.industry_mask[pairs.p]}


def section_name(index: int, lang: str) -> str:
    """The SN2007 section's name (SSB, CC BY 4.0), from the catalogue."""
    return t(f"industry.section.{SECTIONS[int(index)]}", lang)


_TEXT = ("industry.not_preferred", "industry.no_preference", "industry.preferred")


def _text(level: int, v: PairValues, lang: str) -> str:
    return t(_TEXT[level], lang, section=section_name(v["section"], lang))


def _shown(v: PairValues, lang: str) -> dict[str, object]:
    """Sections as SN2007 letters and the opening's by name, never the preference bit mask."""
    prefs = int(v["prefs"])
    return {
        "section": SECTIONS[int(v["section"])],
        "section_name": section_name(v["section"], lang),
        "preferred": [s for i, s in enumerate(SECTIONS) if prefs >> i & 1],
    }


preference = Criterion(
    name="industry",
    levels=PREFERENCE,
    level=_level,
    values=_values,
    reason=_text,
    description="opening's NACE section against the participant's preferred sections",
    uninformative=lambda v: int(v["prefs"]) == 0,
    shown_values=_shown,
)

CRITERIA = [preference]
