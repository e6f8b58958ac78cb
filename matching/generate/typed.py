"""What people actually type: job titles and skills as free text, drawn from the taxonomies.

A participant's desired title is one of the real names of the occupation (the catalogue's NAV
title, another NAV registered title, a STYRK-08 name, ESCO's English label or a Swedish
occupation name) written the way people write it: lower case, a dropped or swapped letter, a
compound split or joined, a context in parentheses. Skills are sometimes an ESCO English label,
an ESCO alternative label, a bokmål alias or a misspelt label instead of the id.

Generated text has to stay recognisable, or the world tests nothing but noise and the loader
rejects profiles without codes: every title variant is put through the real normaliser (one
batch per world, memoised on unique strings) and kept only if it maps to the intended unit
group or to one the proximity table puts at "near" or closer; skill text is kept only if it
maps back to its own id. Anything else falls back to the canonical form. Which variant a row
gets is decided by numbers drawn up front, so worlds stay reproducible.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from matching.taxonomy import proximity, skills
from matching.taxonomy._files import reference_path

#: Context people add in parentheses, by catalogue cluster ("butikkmedarbeider (dagligvare)").
CONTEXTS: dict[str, tuple[str, ...]] = {
    "sales": ("dagligvare", "butikk", "detaljhandel"), "warehouse": ("lager", "logistikk", "terminal"),
    "driving": ("transport", "distribusjon"), "care": ("sykehjem", "hjemmetjenesten", "omsorg"),
    "cleaning": ("renhold", "kontor"), "kitchen": ("kantine", "restaurant", "hotell"),
    "building": ("bygg", "anlegg"), "industry": ("industri", "produksjon"), "office": ("kontor", "kommune"),
}
#: Heads of Norwegian compounds a title may be split before ("lager medarbeider").
HEADS = ("medarbeider", "arbeider", "assistent", "sjåfør", "fører", "selger", "pleier", "hjelp",
         "betjent", "ekspeditør", "montør", "operatør", "kokk", "vert", "terapeut", "utvikler")
#: Distinct typos per title: bounds the unique strings a national world sends to the normaliser.
TYPO_POSITIONS = 8
#: Share of typed titles by source: catalogue title, other NAV title, STYRK name, ESCO English, Swedish.
SOURCE_P = np.array([0.55, 0.2, 0.1, 0.08, 0.07])
#: Share of spellings: as written, lower case, typo, split / joined compound, context.
SPELLING_P = np.array([0.35, 0.3, 0.13, 0.12, 0.1])


@lru_cache(maxsize=1)
def title_sources() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Code → (other NAV titles, STYRK names, ESCO English labels, Swedish names), each sorted.

    NAV titles are the registered ones that NAV only ever coded to this unit group, the most
    observed first; the others are the preferred names of each source.
    """
    from matching.taxonomy.titles import reference_labels

    labels = reference_labels()
    nav = pd.read_csv(reference_path("nav_job_titles.csv"), dtype=str, keep_default_na=False)
    nav = nav[nav["n_codes_for_title"] == "1"].assign(
        years=lambda d: d["years_observed"].str.count(r"\|"))
    nav = nav.sort_values(["code", "years", "title"], ascending=[True, False, True], kind="stable")
    out: dict[str, list[tuple[str, ...]]] = {}
    by_source = dict(list(labels.groupby("source", sort=False)))
    codes = sorted(set(labels["code"]))
    for code in codes:
        out[code] = [tuple(nav.loc[nav["code"] == code, "title"].head(12))]
    for source in ("styrk", "esco_preferred", "sv"):
        g = by_source.get(source, labels.iloc[:0])
        grouped = g.groupby("code")["label"].agg(lambda s: tuple(sorted(set(s))))
        for code in codes:
            out[code].append(grouped.get(code, ()))
    return {c: tuple(v) for c, v in out.items()}


def _typo(text: str, i: int) -> str:
    """A dropped letter (even i) or two swapped letters (odd i), away from the first letter."""
    if len(text) < 7:
        return text
    pos = 1 + (i // 2) % (len(text) - 3)
    if i % 2 == 0:
        return text[:pos] + text[pos + 1:]
    return text[:pos] + text[pos + 1] + text[pos] + text[pos + 2:]


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


def recognisable(pairs: list[tuple[str, str]]) -> list[bool]:
    """Whether each (typed title, intended code) normalises to the code or one near it.

    One normaliser batch over the unique titles; the proximity lookup is one gather."""
    from matching.taxonomy.titles import normalise_titles

    unique = list(dict.fromkeys(t for t, _ in pairs))
    found = dict(zip(unique, normalise_titles(unique)))
    got = np.array([int(m.code) if (m := found[t]) is not None else -1 for t, _ in pairs], dtype=np.int64)
    want = np.array([int(c) for _, c in pairs], dtype=np.int64)
    if not len(pairs):
        return []
    level = proximity.best_match(want[:, None], got)["level"]
    return list((got == want) | ((got >= 0) & (level >= proximity.NEAR)))


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
    pool = {1: (skills.label(skill_id),), 2: _alt_labels().get(skill_id, ()),
            3: skills.aliases_nb().get(skill_id, ()), 4: (skills.label(skill_id),)}[kind]
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
