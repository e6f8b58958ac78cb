"""Canonical skills (ESCO v1.1.1, English labels) and the skills typical of each occupation.

Ids are `esco:<first 8 hex digits of the ESCO UUID>`; free text is mapped to an id with
rapidfuzz against the labels (score ≥ MATCH_THRESHOLD), so an adviser can type a skill.
"""
from __future__ import annotations

from functools import lru_cache

import pandas as pd
from rapidfuzz import fuzz, process

from matching.taxonomy._files import reference_path

MATCH_THRESHOLD = 88.0


@lru_cache(maxsize=1)
def skills() -> dict[str, str]:
    df = pd.read_csv(reference_path("skills.csv"), dtype=str, encoding="utf-8")
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
    return skills().get(skill_id, skill_id)


def occupation_skills(styrk: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(essential, optional) skill ids for a STYRK-08 code, most common first."""
    return _by_occupation().get(styrk, ((), ()))


@lru_cache(maxsize=1)
def _labels() -> tuple[list[str], list[str]]:
    ids, labels = zip(*skills().items())
    return list(ids), [x.lower() for x in labels]


@lru_cache(maxsize=4096)
def canonical_skill(text: str) -> str | None:
    """An id as given, or the closest label's id; None when nothing is close enough."""
    text = text.strip()
    if text in skills():
        return text
    ids, labels = _labels()
    hit = process.extractOne(text.lower(), labels, scorer=fuzz.WRatio, score_cutoff=MATCH_THRESHOLD)
    return ids[hit[2]] if hit else None
