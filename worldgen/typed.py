"""What people actually type: job titles and skills as free text, drawn from the taxonomies.

A participant's desired title is one of the real names of the occupation (the catalogue's NAV
title, another NAV registered title, a STYRK-08 name, ESCO's English label or a Swedish
occupation name) written the way people write it: lower case, a dropped or swapped letter, a
compound split or joined, a context in parentheses. Skills are sometimes an ESCO English label,
an ESCO alternative label, a bokmål alias or a misspelt label instead of the id.

Titles are written without consulting the engine's title normaliser: how well it recovers the
occupation from what people type is something the fixtures *measure* (tests/test_generate.py),
and improving it must not rewrite them. One rule keeps every profile loadable: a participant
who gives no codes writes the first wished occupation by its catalogue title, as written or
in lower case (the catalogue's titles are checked to normalise back to their code), so the
loader always finds at least one code. Skill text is kept only if it maps back to its own id
(else the id is written). Which variant a row gets is decided by numbers drawn up front, so
worlds stay reproducible.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from matching.taxonomy import occupations, skills
from matching.taxonomy._files import reference_path

#: Context people add in parentheses, by catalogue cluster ("butikkmedarbeider (dagligvare)").
CONTEXTS: dict[str, tuple[str, ...]] = {
    "sales": ("dagligvare", "butikk", "detaljhandel"),
    "warehouse": ("lager", "logistikk", "terminal"),
    "driving": ("transport", "distribusjon"),
    "care": ("sykehjem", "hjemmetjenesten", "omsorg"),
    "cleaning": ("renhold", "kontor"),
    "kitchen": ("kantine", "restaurant", "hotell"),
    "building": ("bygg", "anlegg"),
    "industry": ("industri", "produksjon"),
    "office": ("kontor", "kommune"),
}
#: Heads of Norwegian compounds a title may be split before ("lager medarbeider").
HEADS = (
    "medarbeider",
    "arbeider",
    "assistent",
    "sjåfør",
    "fører",
    "selger",
    "pleier",
    "hjelp",
    "betjent",
    "ekspeditør",
    "montør",
    "operatør",
    "kokk",
    "vert",
    "terapeut",
    "utvikler",
)
#: Distinct typos per title: bounds the unique strings a national world sends to the normaliser.
TYPO_POSITIONS = 8
#: Share of typed titles by source: catalogue title, other NAV title, STYRK name, ESCO English, Swedish.
SOURCE_P = np.array([0.55, 0.2, 0.1, 0.08, 0.07])
#: Share of spellings: as written, lower case, typo, split / joined compound, context.
SPELLING_P = np.array([0.35, 0.3, 0.13, 0.12, 0.1])


#: How a STYRK-08 name lists several occupations: "Slaktere, fiskehandlere mv." → 3 names.
_SPLIT_NAME = re.compile(r",\s*|\s+og\s+|\s*/\s*")


def _name_parts(name: str) -> list[str]:
    """A STYRK name and the occupations it lists; fragments ending in an elision hyphen
    ("Kopper-") are not titles on their own."""
    parts = [p.strip() for p in _SPLIT_NAME.split(name)]
    return [name] + [p for p in parts if p and not p.endswith("-") and p != name]


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(reference_path(name), dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def title_sources() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Code → (other NAV titles, STYRK names, ESCO English labels, Swedish names), each sorted.

    NAV titles are the registered ones that NAV only ever coded to this unit group, the most
    observed first; the others are the preferred names of each source, read straight from
    the reference files (not through the engine's title normaliser).
    """
    nav = _read("nav_job_titles.csv")
    nav = nav[nav["n_codes_for_title"] == "1"].assign(years=lambda d: d["years_observed"].str.count(r"\|"))
    nav = nav.sort_values(["code", "years", "title"], ascending=[True, False, True], kind="stable")
    styrk = [(code, part) for code, name in occupations.unit_groups().items() for part in _name_parts(name)]
    esco = _read("esco_occupation_labels_en.csv")
    esco = esco[esco["label_type"] == "preferred"]
    sv = _read("swedish_occupation_names.csv")
    sv = sv.assign(code=sv["isco08"].str.split("|")).explode("code")
    by_source = [
        pd.DataFrame(styrk, columns=["code", "label"]),
        pd.DataFrame({"code": esco["code"], "label": esco["label"]}),
        pd.DataFrame({"code": sv["code"], "label": sv["title"]}),
    ]
    codes = sorted({c for g in by_source for c in g["code"]} | set(nav["code"]))
    out: dict[str, list[tuple[str, ...]]] = {code: [tuple(titles.head(12))] for code, titles in nav.groupby("code", sort=False)["title"]}
    for g in by_source:
        grouped = g.groupby("code")["label"].agg(lambda s: tuple(sorted(set(s))))
        for code in codes:
            out.setdefault(code, [()]).append(grouped.get(code, ()))
    return {c: tuple(v) for c, v in out.items()}


def _typo(text: str, i: int) -> str:
    """A dropped letter (even i) or two swapped letters (odd i), away from the first letter."""
    if len(text) < 7:
        return text
    pos = 1 + (i // 2) % (len(text) - 3)
    if i % 2 == 0:
        return text[:pos] + text[pos + 1 :]
    return text[:pos] + text[pos + 1] + text[pos] + text[pos + 2 :]


def _compound(text: str) -> str:
    """Split a closed compound before its head, or join an open / hyphenated one."""
    if " " in text or "-" in text:
        return text.replace("- ", "").replace("-", "").replace(" ", "", 1)
    low = text.casefold()
    for head in HEADS:
        if low.endswith(head) and len(low) - len(head) >= 3:
            cut = len(text) - len(head)
            return text[:cut] + " " + text[cut:]
    return text


def spell(text: str, u: float, i: int, cluster: str) -> str:
    """One typed spelling of a title, chosen by ``u`` ∈ [0, 1) and the integer ``i``."""
    kind = int(np.searchsorted(SPELLING_P.cumsum(), u, side="right"))
    if kind == 1:
        return text.lower()
    if kind == 2:
        return _typo(text, i % TYPO_POSITIONS)
    if kind == 3:
        return _compound(text)
    if kind == 4 and "(" not in text and cluster in CONTEXTS:
        ctx = CONTEXTS[cluster]
        return f"{text} ({ctx[i % len(ctx)]})"
    return text


def pick_title(code: str, catalogue: tuple[str, ...], u_source: float, u_pick: float) -> str:
    """A real name of the occupation (before spelling): catalogue title most of the time."""
    typed = [x for x in catalogue if "(" not in x] or list(catalogue)  # people rarely type qualifiers
    kind = int(np.searchsorted(SOURCE_P.cumsum(), u_source, side="right"))
    pool = title_sources().get(code, ((),) * 4)[kind - 1] if kind else ()
    pool = pool or tuple(typed)
    return pool[min(int(u_pick * len(pool)), len(pool) - 1)]


def is_plain(u_source: float, u_spelling: float) -> bool:
    """Whether the draws ``pick_title`` and ``spell`` get give a catalogue title, as written
    or in lower case: what a participant without codes writes first (see the module)."""
    source = int(np.searchsorted(SOURCE_P.cumsum(), u_source, side="right"))
    spelling = int(np.searchsorted(SPELLING_P.cumsum(), u_spelling, side="right"))
    return source == 0 and spelling in (0, 1)


# ---------------------------------------------------------------------------------------- skills

#: Share of listed skills written as: the id, ESCO English label, ESCO alt label, bokmål alias, typo.
SKILL_P = np.array([0.5, 0.15, 0.1, 0.15, 0.1])


@lru_cache(maxsize=1)
def _alt_labels() -> dict[str, tuple[str, ...]]:
    df = pd.read_csv(reference_path("skill_alt_labels_en.csv"), dtype=str, keep_default_na=False)
    return {k: tuple(g) for k, g in df.groupby("skill_id")["label_en"]}


def skill_text(skill_id: str, u: float, i: int) -> str:
    """How someone might write a skill (before the recognisability check)."""
    kind = int(np.searchsorted(SKILL_P.cumsum(), u, side="right"))
    if kind == 0:
        return skill_id
    pool = {
        1: (skills.label(skill_id),),
        2: _alt_labels().get(skill_id, ()),
        3: skills.aliases_nb().get(skill_id, ()),
        4: (skills.label(skill_id),),
    }[kind]
    if not pool:
        return skill_id
    text = pool[i % len(pool)]
    return _typo(text, i % 6) if kind == 4 else text


def written_skills(ids: list[list[str]], u: np.ndarray, k: np.ndarray) -> list[str]:
    """Per row, the pipe-joined skills as written; text that does not map back to its own id
    (an ambiguous alias, a typo too far) is written as the id instead."""
    rows = [[skill_text(s, float(u[r, j]), int(k[r, j])) for j, s in enumerate(row)] for r, row in enumerate(ids)]
    ok = {t: skills.canonical_skill(t) for row in rows for t in row}
    return ["|".join(dict.fromkeys(t if ok[t] == s else s for t, s in zip(row, ids_))) for row, ids_ in zip(rows, ids)]
