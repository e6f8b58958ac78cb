"""NAV's adaptation-need taxonomy (tilretteleggingsbehov, generation 2).

Needs (participant side) and offers (employer/opening side) use the same codes, so a need is
covered exactly when the same code is offered. Labels are health-adjacent: the API's liaison
view must never show them without the participant's consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from matching.taxonomy._files import reference_path


@dataclass(frozen=True)
class Need:
    code: str
    category: str
    category_title_nb: str
    category_title_en: str
    label_nb: str
    label_en: str

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_nb


@lru_cache(maxsize=1)
def needs() -> dict[str, Need]:
    df = pd.read_csv(reference_path("adaptation_needs.csv"), dtype=str, encoding="utf-8")
    return {
        r.code: Need(r.code, r.category, r.category_title_nb, r.category_title_en, r.label_nb, r.label_en)
        for r in df.itertuples(index=False)
    }


def is_known(code: str) -> bool:
    return code in needs()


def label(code: str, lang: str = "nb") -> str:
    need = needs().get(code)
    return need.label(lang) if need else code


def coverage(need_codes, offered_codes) -> float:
    """Share of needs the offer covers; a participant with no needs is fully covered."""
    need_set = set(need_codes)
    if not need_set:
        return 1.0
    return len(need_set & set(offered_codes)) / len(need_set)
