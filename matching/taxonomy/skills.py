"""Canonical skills (ESCO v1.1.1), their Norwegian aliases, and the skills typical of each occupation.

Ids are ``esco:<first 8 hex digits of the ESCO UUID>`` (unique over all 13,896 ESCO skills;
rebuilt by ``tools/build_reference_skills.py``). Free text maps to an id in two steps:

1. **exact** – the text, case-folded and with runs of whitespace collapsed, is a label: ESCO's
   English preferred label, one of ESCO's English alternative labels (of skills some occupation
   links), or a bokmål alias from ``skill_aliases_nb.csv`` (hand-made, see SOURCES.md);
2. **fuzzy** – rapidfuzz ``token_sort_ratio`` (word order free, whole strings compared) against
   every label, accepted at ``MATCH_THRESHOLD`` (85) or above: typos and swapped words
   ("products sell", "stock shelfs", "lagerstyrng") find their skill, while a fragment never
   matches a longer label that merely contains it ("cleaning" is *not* "maintain inventory of
   cleaning supplies"; a partial scorer such as ``WRatio`` would even map "a" to "Haskell").
   A miss is ``None``: an unknown skill is better than a wrong one.

Text that finds no id is kept as written (cleaned) and compared with an opening's free-text
skills by the same fuzzy rule when a snapshot is encoded (:func:`match_free_text`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import pandas as pd
from rapidfuzz import fuzz, process

from matching.taxonomy._files import reference_path

#: Minimum rapidfuzz ``token_sort_ratio`` (0-100) for a free-text skill to take a label's id.
MATCH_THRESHOLD = 85.0
#: Essential skills of an occupation taken as "likely" for someone with that occupation.
INFERRED_PER_OCCUPATION = 25
_SPACE = re.compile(r"\s+")


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(reference_path(name), dtype=str, encoding="utf-8", keep_default_na=False)


@lru_cache(maxsize=1)
def skills() -> dict[str, str]:
    """Skill id → English preferred label, for every ESCO skill."""
    df = _read("skills.csv")
    return dict(zip(df["skill_id"], df["label_en"]))


@lru_cache(maxsize=1)
def aliases_nb() -> dict[str, tuple[str, ...]]:
    """Skill id → bokmål aliases; the first is the one shown in bokmål reasons."""
    df = _read("skill_aliases_nb.csv")
    out: dict[str, tuple[str, ...]] = {}
    for skill_id, alias in zip(df["skill_id"], df["alias_nb"]):
        out[skill_id] = (*out.get(skill_id, ()), alias)
    return out


@lru_cache(maxsize=1)
def _by_occupation() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    df = _read("occupation_skills.csv")
    out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for code, group in df.groupby("styrk08", sort=False):
        ess = tuple(group.loc[group["relation"] == "essential", "skill_id"])
        opt = tuple(group.loc[group["relation"] == "optional", "skill_id"])
        out[str(code)] = (ess, opt)
    return out


def is_known(skill_id: str) -> bool:
    return skill_id in skills()


def label(skill_id: str, lang: str = "en") -> str:
    """The label to show: bokmål alias where one exists for ``lang="nb"``, else ESCO's English
    preferred label; free text (or an unknown id) is returned as it is."""
    if lang != "en":
        nb = aliases_nb().get(skill_id)
        if nb:
            return nb[0]
    return skills().get(skill_id, skill_id)


def has_label(skill_id: str, lang: str) -> bool:
    """Whether `label(skill_id, lang)` is in `lang`: always in English (or free text, shown as
    written), in bokmål where a hand-made alias exists (ESCO has no Norwegian skill labels)."""
    return lang == "en" or skill_id not in skills() or bool(aliases_nb().get(skill_id))


def occupation_skills(styrk: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(essential, optional) skill ids for a STYRK-08 code, most common first; ((), ()) if none."""
    return _by_occupation().get(styrk, ((), ()))


def inferred_skills(styrk: str) -> tuple[str, ...]:
    """Skills someone with this occupation very likely has: its ESCO essential skills.

    Optional skills are left out on purpose: ESCO lists them as sometimes needed, which is
    too weak to claim on a person's behalf."""
    return occupation_skills(styrk)[0][:INFERRED_PER_OCCUPATION]


def _key(text: str) -> str:
    return _SPACE.sub(" ", text.strip().casefold())


@lru_cache(maxsize=1)
def _labels() -> tuple[list[str], list[str], dict[str, str]]:
    """(ids, sorted-token keys) aligned for fuzzy search, and the exact key → id index.

    Exact precedence: preferred labels, then bokmål aliases, then alternative labels, so a
    word that is one skill's name and another's alternative label keeps its own skill."""
    pairs: list[tuple[str, str]] = [(i, _key(lab)) for i, lab in skills().items()]
    pairs += [(i, _key(a)) for i, aliases in aliases_nb().items() for a in aliases]
    alt = _read("skill_alt_labels_en.csv").assign(key=lambda d: d["label_en"].map(_key))
    alt = alt[~alt["key"].duplicated(keep=False)]  # an alternative label of two skills names neither
    pairs += list(zip(alt["skill_id"], alt["key"]))
    exact: dict[str, str] = {}
    for skill_id, key in pairs:
        exact.setdefault(key, skill_id)
    ids = [exact[k] for k in exact]
    return ids, [_sorted_tokens(k) for k in exact], exact


def _sorted_tokens(key: str) -> str:
    """token_sort_ratio's preprocessing done once per label instead of once per comparison."""
    return " ".join(sorted(key.split()))


@lru_cache(maxsize=8192)
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
    hit = process.extractOne(_sorted_tokens(key), keys, scorer=fuzz.ratio, score_cutoff=MATCH_THRESHOLD)
    return ids[hit[2]] if hit else None


def normalise_skill_list(items: Iterable[str]) -> list[str]:
    """Free-text skills → ESCO ids where recognised, the cleaned text otherwise; no duplicates.

    Unrecognised text is kept (not dropped) so it can still meet the same words in an
    opening, and so an adviser sees what was typed."""
    out: list[str] = []
    for item in items:
        text = _SPACE.sub(" ", item.strip())
        if text:
            out.append(canonical_skill(text) or text)
    return list(dict.fromkeys(out))


#: The search keys of the last few vocabularies, by identity: a snapshot's skill vocabulary is
#: one object, and every posted profile (`POST /v1/match`) is encoded against it; building its
#: ~10k keys again cost more than the fuzzy search itself. (vocabulary, its entries, their keys)
_CHOICES: list[tuple[object, list[str], list[str]]] = []
_CHOICES_MAX = 4


def _choices(vocabulary: Iterable[str]) -> tuple[list[str], list[str]]:
    """The vocabulary's entries and their search keys; cached for a dict or tuple by identity
    while it is one of the last few seen (a snapshot's vocabulary is never changed in place;
    the length check catches one that was)."""
    if isinstance(vocabulary, dict | tuple | frozenset):
        for owner, vocab, keys in _CHOICES:
            if owner is vocabulary and len(vocab) == len(vocabulary):
                return vocab, keys
    vocab = list(vocabulary)
    keys = [_key(label(v)) for v in vocab]
    if isinstance(vocabulary, dict | tuple | frozenset):
        _CHOICES.insert(0, (vocabulary, vocab, keys))
        del _CHOICES[_CHOICES_MAX:]
    return vocab, keys


def match_free_text(texts: Iterable[str], vocabulary: Iterable[str]) -> dict[str, str]:
    """Free-text skills (no ESCO id) → the vocabulary entry they fuzzily match, if any.

    The fallback of the id comparison: a participant's "sveise MIG" still meets an opening's
    "MIG-sveising" when neither found an ESCO id. Vocabulary ids compare by their labels."""
    texts = [t for t in dict.fromkeys(texts) if t and t not in skills()]
    if not texts:
        return {}
    vocab, choices = _choices(vocabulary)
    if not vocab:
        return {}
    out = {}
    for text in texts:
        hit = process.extractOne(_key(text), choices, scorer=fuzz.token_sort_ratio, score_cutoff=MATCH_THRESHOLD)
        if hit:
            out[text] = vocab[hit[2]]
    return out
