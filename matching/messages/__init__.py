"""Every phrase a person reads in a reason or a level label, one catalogue per language.

``nb.MESSAGES`` and ``en.MESSAGES`` map the same keys to ``str.format`` templates (a test
checks both have the same keys, the same placeholders, and that every key is used). Code
picks a phrase by key and fills it with values it has already formatted for the language
(numbers with :func:`num`), so no module branches on the language itself.

Key families: ``<levels>.level.<i>`` is level *i* (worst first) of a criterion's declared
levels (`criteria.base.Levels`), ``<criterion>.<case>`` a reason template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from matching.messages import en, nb

CATALOGUES: Mapping[str, Mapping[str, str]] = {"nb": nb.MESSAGES, "en": en.MESSAGES}
LANGUAGES = tuple(CATALOGUES)

#: Phrases that state something in the pair's favour: shown with a "-" effect they would
#: contradict themselves (checked by tests/test_reasons.py and benchmarks/reason_quality.py).
POSITIVE = (
    "occupation.same",
    "occupation.close",
    "occupation.near",
    "experience.in_field",
    "likely_skills.inferred",
    "adaptation.all_covered",
    "norwegian.meets",
    "education.meets",
    "hours.within",
    "hours_fit.as_wished_full",
    "hours_fit.as_wished_part",
    "availability.by_start",
    "availability.now",
    "industry.preferred",
    "responsiveness.usually",
)


def pattern(key: str, lang: str) -> re.Pattern[str]:
    """A regex matching any text the phrase `key` renders to (placeholders match anything)."""
    return re.compile(".*".join(re.escape(p) for p in re.split(r"\{[^}]*\}", catalogue(lang)[key])), re.S)


def catalogue(lang: str) -> Mapping[str, str]:
    """The catalogue of `lang`; anything but English is bokmål (the service's default)."""
    return CATALOGUES["en" if lang == "en" else "nb"]


def t(key: str, lang: str, /, **fields: object) -> str:
    """The phrase `key` in `lang`, its placeholders filled from `fields`."""
    template = catalogue(lang)[key]
    return template.format(**fields) if fields else template


def num(x: float, lang: str, max_decimals: int = 1) -> str:
    """A number as a person writes it: no trailing zeros, the language's decimal mark."""
    text = f"{float(x):.{max_decimals}f}".rstrip("0").rstrip(".") if max_decimals else f"{float(x):.0f}"
    return text.replace(".", t("decimal_mark", lang))


def quoted_list(items: list[str], lang: str) -> str:
    """ "a" and "b": names that contain "og" and commas themselves are quoted when several."""
    if len(items) == 1:
        return items[0]
    q = [t("quote", lang, text=x) for x in items]
    return t("and", lang, items=", ".join(q[:-1]), last=q[-1])
