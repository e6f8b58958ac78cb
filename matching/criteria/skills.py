"""Skill coverage: the share of the opening's required skills the participant has.

Two criteria, both over ESCO skill ids (free text without an id falls back to fuzzy matching
when the snapshot is encoded, see :mod:`matching.world`):

* ``skills`` – coverage by the skills the profile *lists*;
* ``likely_skills`` – coverage by what the participant has *or very likely has*: the listed
  skills together with the ESCO essential skills of every occupation they have experience in
  (with none, of the first they want). Skills that count only because they are typical are
  marked as inferred in the reasons, which name the occupations they are typical for.

A listed skill counts in both criteria, an inferred one only in the second, and every level
weight is non-negative, so an inferred skill can never count more than a stated one, and
adding a skill to a profile (its first one included) never lowers either level; nor does
adding experience to a profile that has some.
An opening that asks for no particular skill is fully covered; optional
skills are quoted in the reason but do not move the level (they are wishes, not requirements).
"""
from __future__ import annotations

import numpy as np

from matching.criteria import by_key
from matching.criteria.base import Criterion, Evaluation, bin_levels
from matching.pairs import Pairs
from matching.taxonomy import occupations
from matching.taxonomy import skills as taxonomy

THRESHOLDS = [0.25, 0.5, 0.75, 1.0 - 1e-9]
SHOWN = 3  # inferred skills named in a reason


def _rowwise_overlap(a, b) -> np.ndarray:
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


def _coverage(covered: np.ndarray, n_req: np.ndarray) -> np.ndarray:
    return np.where(n_req > 0, covered / np.maximum(n_req, 1), 1.0)


def _level(covered: np.ndarray, n_req: np.ndarray) -> np.ndarray:
    return bin_levels(_coverage(covered, n_req), THRESHOLDS, "increasing")


def _evaluate(pairs: Pairs) -> Evaluation:
    w = pairs.world
    ps = w.participant_skills[pairs.p]
    req = w.required_skills[pairs.o]
    opt = w.optional_skills[pairs.o]
    n_req = np.asarray(req.sum(axis=1)).ravel()
    covered = _rowwise_overlap(ps, req)
    level = bin_levels(_coverage(covered, n_req), THRESHOLDS, "increasing")
    return Evaluation(level, {"covered": covered, "required": n_req,
                              "optional_covered": _rowwise_overlap(ps, opt),
                              "listed": w.participants.listed_skills[pairs.p]})


def _text(level: int, v, lang: str) -> str:
    cov, req, opt = int(v["covered"]), int(v["required"]), int(v["optional_covered"])
    if req == 0:
        base = "No specific skills required" if lang == "en" else "Ingen særskilte krav til ferdigheter"
    elif int(v.get("listed", 1)) == 0:
        base = (f"No skills listed in the profile ({req} required)" if lang == "en"
                else f"Ingen ferdigheter oppgitt i profilen ({req} kreves)")
    elif lang == "en":
        base = f"Has {cov} of {req} required skills"
    else:
        base = f"Har {cov} av {req} ferdigheter som kreves"
    if opt:
        base += f" (+{opt} desirable)" if lang == "en" else f" (+{opt} ønskede)"
    return base


coverage = Criterion(
    name="skills",
    levels=(
        {"nb": "under 25 % av kravene", "en": "under 25 % of requirements"},
        {"nb": "25–50 %", "en": "25–50 %"},
        {"nb": "50–75 %", "en": "50–75 %"},
        {"nb": "75–99 %", "en": "75–99 %"},
        {"nb": "alle krav", "en": "all requirements"},
    ),
    evaluate=_evaluate,
    reason=_text,
    fast_level=lambda pairs: _level(*by_key.listed_coverage(pairs)),
    description="share of required skills covered by the skills the profile lists",
)


def _evaluate_likely(pairs: Pairs) -> Evaluation:
    w = pairs.world
    likely = w.likely_skills[pairs.p]
    req = w.required_skills[pairs.o]
    n_req = np.asarray(req.sum(axis=1)).ravel()
    both = likely.multiply(req).tocsr()
    covered = np.asarray(both.sum(axis=1)).ravel()
    stated = _rowwise_overlap(w.participant_skills[pairs.p], req)
    # Only inference is news here: quote the occupations and the skills that count because they
    # are typical, not listed (-1: nothing inferred counts, the `skills` reason says it all).
    source = np.where(covered > stated, w.participants.inferred_from[pairs.p], -1)
    names = np.full(len(pairs), "", dtype=object)
    quote = np.flatnonzero(source >= 0)
    if len(quote):
        vocab = np.array(list(w.skill_vocab), dtype=object)
        sub = (both - both.multiply(w.participant_skills[pairs.p])).tocsr()[quote]
        sub.eliminate_zeros()
        names[quote] = ["|".join(vocab[sub.indices[a:b]]) for a, b in zip(sub.indptr[:-1], sub.indptr[1:])]
    level = bin_levels(_coverage(covered, n_req), THRESHOLDS, "increasing")
    sources = np.full(len(pairs), "", dtype=object)
    if len(quote):
        sources[quote] = w.participants.inferred_sources_text(pairs.p[quote])
    return Evaluation(level, {"covered": covered, "required": n_req, "inferred_from": source, "likely": names,
                              "sources": sources})


def _and(items: list[str], lang: str) -> str:
    """"a" and "b": occupation names contain "og" and commas themselves, so several are quoted."""
    if len(items) == 1:
        return items[0]
    q = [f"«{x}»" if lang != "en" else f'"{x}"' for x in items]
    return f"{', '.join(q[:-1])} {'and' if lang == 'en' else 'og'} {q[-1]}"


def _likely_text(level: int, v, lang: str) -> str:
    cov, req, source = int(v["covered"]), int(v["required"]), int(v["inferred_from"])
    if req == 0:
        return "No specific skills required" if lang == "en" else "Ingen særskilte krav til ferdigheter"
    if source < 0:
        return (f"Has {cov} of {req} required skills (as listed)" if lang == "en"
                else f"Har {cov} av {req} ferdigheter som kreves (som oppgitt)")
    codes = [f"{int(c):04d}" for c in str(v.get("sources") or source).split("|") if c]
    typical = {c: taxonomy.inferred_skills(c) for c in codes}
    rank: dict[str, int] = {}  # most typical first, over every source occupation
    for c in codes:
        for i, s in enumerate(typical[c]):
            rank[s] = min(rank.get(s, i), i)
    shown = sorted((s for s in str(v["likely"]).split("|") if s), key=lambda s: rank.get(s, len(rank)))[:SHOWN]
    # name only the occupations the quoted skills are typical for
    named = [c for c in codes if set(shown) & set(typical[c])] or codes[:1]
    name = occupations.name_en if lang == "en" else occupations.name
    occ = _and([name(c).lower() for c in named], lang)
    names = ", ".join(taxonomy.label(s, lang) for s in shown)
    if lang == "en":
        return f"Likely has: {names} — typical for {occ} (inferred from occupation; {cov} of {req} required skills with these)"
    return f"Har trolig: {names} — typisk for {occ} (utledet fra yrket; {cov} av {req} ferdigheter som kreves med disse)"


likely = Criterion(
    name="likely_skills",
    levels=(
        {"nb": "under 25 % av kravene", "en": "under 25 % of requirements"},
        {"nb": "25–50 %", "en": "25–50 %"},
        {"nb": "50–75 %", "en": "50–75 %"},
        {"nb": "75–99 %", "en": "75–99 %"},
        {"nb": "alle krav", "en": "all requirements"},
    ),
    evaluate=_evaluate_likely,
    reason=_likely_text,
    fast_level=lambda pairs: _level(*by_key.likely_coverage(pairs)),
    description="share of required skills covered by the listed skills together with the skills "
                "typical of the occupations they have experience in, else of their first wish (inferred)",
    # Listed skills speak through `skills`; only an inference that counts is news.
    uninformative=lambda v: int(v["inferred_from"]) < 0 or int(v["required"]) == 0,
)

CRITERIA = [coverage, likely]
