"""Requirement fit: Norwegian level and education against what the opening asks for.

Soft, not hard: employers do hire below a stated requirement when adaptations (language
training, mentoring) are in place, and the outcome history says how much it matters.
"""
from __future__ import annotations

from matching import schema
from matching.criteria.base import Criterion, Evaluation, bin_levels
from matching.pairs import Pairs

_LEVELS = (
    {"nb": "to nivåer eller mer under kravet", "en": "two or more levels below"},
    {"nb": "ett nivå under kravet", "en": "one level below"},
    {"nb": "oppfyller kravet", "en": "meets the requirement"},
)

_EDU_NAMES = {
    "none": ("ingen fullført utdanning", "no completed education"),
    "primary": ("grunnskole", "primary school"),
    "upper_secondary": ("videregående skole", "upper secondary school"),
    "vocational": ("fagbrev", "vocational certificate"),
    "bachelor": ("bachelorgrad", "bachelor's degree"),
    "master": ("mastergrad", "master's degree"),
}


def _gap_eval(have, need) -> Evaluation:
    gap = have - need
    return Evaluation(bin_levels(gap, [-1, 0], "increasing"), {"have": have, "need": need})


def _norwegian(pairs: Pairs) -> Evaluation:
    w = pairs.world
    return _gap_eval(w.participants.norwegian_rank[pairs.p], w.openings.norwegian_rank[pairs.o])


def _norwegian_text(level: int, v, lang: str) -> str:
    have, need = schema.NORWEGIAN_LEVELS[int(v["have"])], schema.NORWEGIAN_LEVELS[int(v["need"])]
    show = {"none": ("ingen", "none"), "native": ("morsmål", "native")}
    h = show.get(have, (have, have))[1 if lang == "en" else 0]
    if need == "none":
        return "No Norwegian requirement" if lang == "en" else "Ingen krav til norsk"
    if level == 2:
        return f"Norwegian level {h} meets the requirement ({need})" if lang == "en" else f"Norsknivå {h} oppfyller kravet ({need})"
    return f"Norwegian level {h} is below the requirement ({need})" if lang == "en" else f"Norsknivå {h} er under kravet ({need})"


norwegian = Criterion(
    name="norwegian",
    levels=_LEVELS,
    evaluate=_norwegian,
    reason=_norwegian_text,
    description="participant's Norwegian level minus the opening's requirement (CEFR steps)",
)


def _education(pairs: Pairs) -> Evaluation:
    w = pairs.world
    return _gap_eval(w.participants.education_rank[pairs.p], w.openings.education_rank[pairs.o])


def _education_text(level: int, v, lang: str) -> str:
    i = 1 if lang == "en" else 0
    have = _EDU_NAMES[schema.EDUCATION_LEVELS[int(v["have"])]][i]
    need_code = schema.EDUCATION_LEVELS[int(v["need"])]
    if need_code == "none":
        return "No education requirement" if lang == "en" else "Ingen krav til utdanning"
    need = _EDU_NAMES[need_code][i]
    if level == 2:
        return f"Education ({have}) meets the requirement ({need})" if lang == "en" else f"Utdanning ({have}) oppfyller kravet ({need})"
    return f"Education ({have}) is below the requirement ({need})" if lang == "en" else f"Utdanning ({have}) er under kravet ({need})"


education = Criterion(
    name="education",
    levels=_LEVELS,
    evaluate=_education,
    reason=_education_text,
    description="participant's education level minus the opening's requirement",
)

CRITERIA = [norwegian, education]
