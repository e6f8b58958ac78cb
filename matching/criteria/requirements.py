"""Requirement fit: Norwegian level and education against what the opening asks for.

Soft, not hard: employers do hire below a stated requirement when adaptations (language
training, mentoring) are in place, and the outcome history says how much it matters.
"""

from __future__ import annotations

import numpy as np

from matching import schema
from matching.criteria.base import Criterion, Levels, PairValues, Values, by_classes, t
from matching.pairs import Pairs

#: Levels of the participant's rank minus the opening's requirement; both criteria share them.
GAP = Levels.from_thresholds("requirement", [-1, 0], neutral=2)  # neutral: the requirement met


def _ranks(pairs: Pairs, field: str) -> tuple[np.ndarray, np.ndarray]:
    w = pairs.world
    return getattr(w.participants, field)[pairs.p], getattr(w.openings, field)[pairs.o]


def _gap_level(field: str):
    def level(pairs: Pairs) -> np.ndarray:
        """``GAP.bin(have - need)``, from a table of the distinct ranks (`base.by_classes`)."""
        w = pairs.world
        return by_classes(
            pairs,
            field,
            lambda: getattr(w.participants, field),
            lambda: getattr(w.openings, field),
            lambda have, need: GAP.bin(have - need),
        )

    return level


def _gap_values(field: str):
    def values(pairs: Pairs) -> Values:
        have, need = _ranks(pairs, field)
        return {"have": have, "need": need}

    return values


def _norwegian_text(level: int, v: PairValues, lang: str) -> str:
    have, need = schema.NORWEGIAN_LEVELS[int(v["have"])], schema.NORWEGIAN_LEVELS[int(v["need"])]
    if need == "none":
        return t("norwegian.none_required", lang)
    shown = t(f"norwegian.name.{have}", lang) if have in ("none", "native") else have  # CEFR codes as they are
    return t("norwegian.meets" if level == 2 else "norwegian.below", lang, have=shown, need=need)


norwegian = Criterion(
    name="norwegian",
    levels=GAP,
    level=_gap_level("norwegian_rank"),
    values=_gap_values("norwegian_rank"),
    reason=_norwegian_text,
    shown_values=lambda v, lang: {"have": schema.NORWEGIAN_LEVELS[int(v["have"])], "need": schema.NORWEGIAN_LEVELS[int(v["need"])]},
    description="participant's Norwegian level minus the opening's requirement (CEFR steps)",
)


def _education_text(level: int, v: PairValues, lang: str) -> str:
    need_code = schema.EDUCATION_LEVELS[int(v["need"])]
    if need_code == "none":
        return t("education.none_required", lang)
    have = t(f"education.name.{schema.EDUCATION_LEVELS[int(v['have'])]}", lang)
    need = t(f"education.name.{need_code}", lang)
    return t("education.meets" if level == 2 else "education.below", lang, have=have, need=need)


education = Criterion(
    name="education",
    levels=GAP,
    level=_gap_level("education_rank"),
    values=_gap_values("education_rank"),
    reason=_education_text,
    shown_values=lambda v, lang: {"have": schema.EDUCATION_LEVELS[int(v["have"])], "need": schema.EDUCATION_LEVELS[int(v["need"])]},
    description="participant's education level minus the opening's requirement",
)

CRITERIA = [norwegian, education]
