"""Canonical skills (ESCO v1.1.1, English labels) and the skills typical of each occupation.

Ids are ``esco:<first 8 hex digits of the ESCO UUID>`` (unique over all 13,896 ESCO skills;
rebuilt by ``tools/build_reference_skills.py``). Free text maps to an id in two steps:

1. **exact** – the text, case-folded and with runs of whitespace collapsed, is a label;
2. **fuzzy** – rapidfuzz ``token_sort_ratio`` (word order free, whole strings compared) against
   every label, accepted at ``MATCH_THRESHOLD`` (85) or above: typos and swapped words
   ("products sell", "stock shelfs") find their skill, while a fragment never matches a longer
   label that merely contains it ("cleaning" is *not* "maintain inventory of cleaning
   supplies"; a partial scorer such as ``WRatio`` would even map "a" to "Haskell"). A miss is
   ``None``: an unknown skill is better than a wrong one.
"""
from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd
from rapidfuzz import fuzz, process

from matching.taxonomy._files import reference_path

#: Minimum rapidfuzz ``token_sort_ratio`` (0-100) for a free-text skill to take a label's id.
MATCH_THRESHOLD = 85.0
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def skills() -> dict[str, str]:
    """Skill id → English preferred label, for every ESCO skill."""
    df = pd.read_csv(reference_path("skills.csv"), dtype=str, encoding="utf-8", keep_default_na=False)
    return dict(zip(df["skill_id"], df["label_en"]))


@lru_cache(maxsize=1)
def _by_occupation() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    df = pd.read_csv(reference_path("occupation_skills.csv"), dtype=str, encoding="utf-8")
    out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for code, group in df.groupby("styrk08", sort=False):
        ess = tuple(group.loc[group["relation"] == "essential", "skill_id"])
        opt = tuple(group.loc[group["relation"] == "optional", "skill_id"])
        out[str(code)] = (ess, opt)
    return out


def is_known(skill_id: str) -> bool:
    return skill_id in skills()


def label(skill_id: str) -> str:
    """The English label; an unknown id is returned as it is."""
    return skills().get(skill_id, skill_id)


def occupation_skills(styrk: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(essential, optional) skill ids for a STYRK-08 code, most common first; ((), ()) if none."""
    return _by_occupation().get(styrk, ((), ()))


def _key(text: str) -> str:
    return _SPACE.sub(" ", text.strip().casefold())


@lru_cache(maxsize=1)
def _labels() -> tuple[list[str], list[str], dict[str, str]]:
    ids = list(skills())
    keys = [_key(skills()[i]) for i in ids]
    exact: dict[str, str] = {}
    for skill_id, key in zip(ids, keys):
        exact.setdefault(key, skill_id)  # labels are unique case-folded; first id wins otherwise
    return ids, keys, exact


@lru_cache(maxsize=4096)
def canonical_skill(text: str) -> str | None:
    """A known id as given, else the id of the label matching the free text; None if none does."""
    text = text.strip()
    if text in skills():
        return text
    key = _key(text)
    if not key:
        return None
    ids, keys, exact = _labels()
    if key in exact:
        return exact[key]
    hit = process.extractOne(key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=MATCH_THRESHOLD)
    return ids[hit[2]] if hit else None
