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

from matching.criteria.base import Criterion, Levels, PairValues, Values, cached, compact, quoted_list, t
from matching.pairs import Pairs
from matching.taxonomy import occupations
from matching.taxonomy import skills as taxonomy

#: Both criteria share the levels (and labels): share of the opening's required skills covered.
COVERAGE = Levels.from_thresholds("skills", [0.25, 0.5, 0.75, 1.0 - 1e-9])
SHOWN = 3  # inferred skills named in a reason


def _rowwise_overlap(a, b) -> np.ndarray:
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


def _level(covered: np.ndarray, n_req: np.ndarray) -> np.ndarray:
    return COVERAGE.bin(np.where(n_req > 0, covered / np.maximum(n_req, 1), 1.0))


# ---------------------------------------------------------------------------- levels, per pair

def coverage_counts(pairs: Pairs, have: str) -> tuple[np.ndarray, np.ndarray]:
    """(covered, required) per pair, as ``w.<have>[p].multiply(required[o]).sum(1)`` and
    ``required[o].sum(1)``: one binary search per (pair, required skill) into the sorted
    (participant, skill) keys of the distinct participants of these pairs, instead of a
    sparse row product per pair. Nothing is kept per snapshot: the keys cost the pairs'
    participants' skills, not the country's, in the batch and in a live request alike."""
    w = pairs.world
    req = w.required_skills
    n_req = cached(w.openings, "_n_required", lambda: np.asarray(req.sum(axis=1)).ravel())[pairs.o]
    lens = np.diff(req.indptr)[pairs.o]
    total = int(lens.sum())
    if total == 0:
        return np.zeros(len(pairs)), n_req
    rows, local = compact(pairs.p, len(w.participants))
    m = getattr(w, have)[rows]  # a copy: the snapshot's matrix keeps its order, which reasons quote
    m.sort_indices()
    keys = np.repeat(np.arange(len(rows), dtype=np.int64), np.diff(m.indptr)) * m.shape[1] + m.indices
    pair_of = np.repeat(np.arange(len(pairs)), lens)
    at = np.repeat(req.indptr[pairs.o] - (np.cumsum(lens) - lens), lens) + np.arange(total)
    want = local[pair_of] * req.shape[1] + req.indices[at]
    pos = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
    got = np.where(keys[pos] == want, m.data[pos], 0) * req.data[at] if len(keys) else np.zeros(total)
    return np.bincount(pair_of, weights=got, minlength=len(pairs)), n_req


# ---------------------------------------------------------------------------- skills (listed)


def _values(pairs: Pairs) -> Values:
    w = pairs.world
    ps = w.participant_skills[pairs.p]
    req = w.required_skills[pairs.o]
    opt = w.optional_skills[pairs.o]
    return {"covered": _rowwise_overlap(ps, req), "required": np.asarray(req.sum(axis=1)).ravel(),
            "optional_covered": _rowwise_overlap(ps, opt),
            "listed": w.participants.listed_skills[pairs.p]}


def _text(level: int, v: PairValues, lang: str) -> str:
    cov, req, opt = int(v["covered"]), int(v["required"]), int(v["optional_covered"])
    if req == 0:
        text = t("skills.none_required", lang)
    elif int(v.get("listed", 1)) == 0:
        text = t("skills.none_listed", lang, required=req)
    else:
        text = t("skills.has", lang, covered=cov, required=req)
    return t("skills.desirable", lang, text=text, optional=opt) if opt else text


coverage = Criterion(
    name="skills",
    levels=COVERAGE,
    level=lambda pairs: _level(*coverage_counts(pairs, "participant_skills")),
    values=_values,
    reason=_text,
    level_of_values=lambda v: _level(v["covered"], v["required"]),
    description="share of required skills covered by the skills the profile lists",
)

# ---------------------------------------------------------------------------- likely skills


def _likely_values(pairs: Pairs) -> Values:
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
    sources = np.full(len(pairs), "", dtype=object)
    if len(quote):
        sources[quote] = w.participants.inferred_sources_text(pairs.p[quote])
    return {"covered": covered, "required": n_req, "inferred_from": source, "likely": names, "sources": sources}


def _likely_text(level: int, v: PairValues, lang: str) -> str:
    cov, req, source = int(v["covered"]), int(v["required"]), int(v["inferred_from"])
    if req == 0:
        return t("skills.none_required", lang)
    if source < 0:
        return t("likely_skills.as_listed", lang, covered=cov, required=req)
    codes = [f"{int(c):04d}" for c in str(v.get("sources") or source).split("|") if c]
    typical = {c: taxonomy.inferred_skills(c) for c in codes}
    rank: dict[str, int] = {}  # most typical first, over every source occupation
    for c in codes:
        for i, s in enumerate(typical[c]):
            rank[s] = min(rank.get(s, i), i)
    shown = sorted((s for s in str(v["likely"]).split("|") if s), key=lambda s: rank.get(s, len(rank)))[:SHOWN]
    # name only the occupations the quoted skills are typical for
    named = [c for c in codes if set(shown) & set(typical[c])] or codes[:1]
    return t("likely_skills.inferred", lang, skills=skill_names(shown, lang),
             occupations=quoted_list([occupations.label(c, lang).lower() for c in named], lang), covered=cov, required=req)


def skill_names(skill_ids: list[str], lang: str) -> str:
    """Skills by their label in `lang`. ESCO names most skills in English only: in another
    language those are said to have no name in it and quoted by their English name,
    after the ones that have one ("mattrygghet; uten norsk navn i ESCO: «clean equipment»")."""
    own = [taxonomy.label(s, lang) for s in skill_ids if taxonomy.has_label(s, lang)]
    other = [taxonomy.label(s, "en") for s in skill_ids if not taxonomy.has_label(s, lang)]
    if other:
        own.append(t("skills.untranslated", lang, names=", ".join(t("quote", lang, text=x) for x in other)))
    return "; ".join(own) if other else ", ".join(own)


def _likely_shown(v: PairValues, lang: str) -> dict[str, object]:
    """Inferred skills by label, their occupations as STYRK-08 codes (strings), no skill ids."""
    source = int(v["inferred_from"])
    return {"covered": int(v["covered"]), "required": int(v["required"]),
            "inferred_from": f"{source:04d}" if source >= 0 else None,
            "likely": [taxonomy.label(s, lang) for s in str(v.get("likely") or "").split("|") if s],
            "sources": [f"{int(c):04d}" for c in str(v.get("sources") or "").split("|") if c]}


likely = Criterion(
    name="likely_skills",
    levels=COVERAGE,
    level=lambda pairs: _level(*coverage_counts(pairs, "likely_skills")),
    values=_likely_values,
    reason=_likely_text,
    shown_values=_likely_shown,
    level_of_values=lambda v: _level(v["covered"], v["required"]),
    description="share of required skills covered by the listed skills together with the skills "
                "typical of the occupations they have experience in, else of their first wish (inferred)",
    # Listed skills speak through `skills`; only an inference that counts is news.
    uninformative=lambda v: int(v["inferred_from"]) < 0 or int(v["required"]) == 0,
)

CRITERIA = [coverage, likely]
