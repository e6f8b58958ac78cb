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

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from matching.criteria.base import Criterion, Levels, PairValues, Values, cached, compact, quoted_list, t
from matching.pairs import Pairs
from matching.taxonomy import occupations
from matching.taxonomy import skills as taxonomy

if TYPE_CHECKING:
    from matching.world import World

#: Both criteria share the levels (and labels): share of the opening's required skills covered.
COVERAGE = Levels.from_thresholds("skills", [0.25, 0.5, 0.75, 1.0 - 1e-9])
SHOWN = 3  # inferred skills named in a reason


def _level(covered: np.ndarray, n_req: np.ndarray) -> np.ndarray:
    return COVERAGE.bin(np.where(n_req > 0, covered / np.maximum(n_req, 1), 1.0))


# ---------------------------------------------------------------------------- levels, per pair

#: Largest (participants × skills) table `coverage_counts` fills per call (float32 cells, 32 MB);
#: beyond it (a live opening's ~100k candidates) it binary-searches a compact key list instead.
DENSE_MAX = 8_000_000


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(start, start + len)`` for every (start, len), without a loop."""
    total = int(lens.sum())
    return np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)


def _row_lengths(owner: object, m, name: str) -> np.ndarray:
    """Stored entries per row of a CSR matrix, once per snapshot (``np.diff`` of a national
    matrix's indptr cost more than a live request's lookups)."""
    return cached(owner, f"_lens_{name}", lambda: np.diff(m.indptr))


def _canonical(w, name: str):
    """The World's participant skill matrix as CSR with sorted, summed indices (once per
    snapshot; the snapshot's own matrix keeps its order, which reasons quote), so each
    (participant, skill) is at most one stored value."""

    def build():
        m = getattr(w, name).tocsr(copy=True)
        m.sum_duplicates()
        return m

    return cached(w, f"_csr_{name}", build)


def _required(pairs: Pairs, of: str = "required_skills"):
    """Each pair's required (or `of`: optional) skills, flattened (pair, compacted participant, skill column among
    those required here, weight), and the compacted participants and those columns. Built once
    per Pairs: both skill criteria gather the same entries."""

    def build():
        w = pairs.world
        req = getattr(w, of)
        lens = _row_lengths(w.openings, req, of)[pairs.o]
        at = _ranges(req.indptr[pairs.o], lens)
        pair_of = np.repeat(np.arange(len(pairs)), lens)
        rows, pl = compact(pairs.p, len(w.participants))
        cols, col = compact(req.indices[at], req.shape[1])
        return pair_of, pl[pair_of], col, req.data[at], rows, cols

    return cached(pairs, f"_{of}", build)


def coverage_counts(pairs: Pairs, have: str, of: str = "required_skills") -> tuple[np.ndarray, np.ndarray]:
    """(covered, required) per pair, as ``w.<have>[p].multiply(<of>[o]).sum(1)`` and
    ``<of>[o].sum(1)`` give them: the same products, summed in the same order. The
    participants of these pairs and the skill columns their openings require are compacted
    into a small table (or, when that would be large, a sorted key list searched per
    required skill), so a lookup touches memory the size of the chunk, not of the World."""
    w = pairs.world
    req = getattr(w, of)
    n_req = cached(w.openings, f"_n_{of}", lambda: np.asarray(req.sum(axis=1)).ravel())[pairs.o]
    if len(pairs) == 0 or int(_row_lengths(w.openings, req, of)[pairs.o].sum()) == 0:
        return np.zeros(len(pairs)), n_req
    pair_of, who, col, weight, rows, cols = _required(pairs, of)
    m = _canonical(w, have)
    colmap = np.full(m.shape[1], -1, dtype=np.int64)
    colmap[cols] = np.arange(len(cols))
    lens = _row_lengths(w, m, have)[rows]
    at = _ranges(m.indptr[rows], lens)
    local = colmap[m.indices[at]]
    keep = local >= 0
    owner = np.repeat(np.arange(len(rows)), lens)[keep]
    local, values = local[keep], m.data[at][keep]
    if len(rows) * len(cols) <= DENSE_MAX:
        table = np.zeros((len(rows), len(cols)), dtype=m.dtype)
        table[owner, local] = values
        got = table[who, col] * weight
    else:
        keys = owner * len(cols) + local  # sorted: rows ascending, columns ascending within a row
        want = who * len(cols) + col
        pos = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
        got = (np.where(keys[pos] == want, values[pos], 0) if len(keys) else np.zeros(len(want), dtype=m.dtype)) * weight
    return np.bincount(pair_of, weights=got, minlength=len(pairs)), n_req


# ---------------------------------------------------------------------------- skills (listed)


def _counts(pairs: Pairs, have: str, of: str = "required_skills") -> tuple[np.ndarray, np.ndarray]:
    """`coverage_counts`, kept on these pairs for the other criterion's values (`skills` and
    `likely_skills` both quote the listed skills' coverage)."""
    return cached(pairs, f"_counts_{have}_{of}", lambda: coverage_counts(pairs, have, of))


def _values(pairs: Pairs) -> Values:
    covered, required = _counts(pairs, "participant_skills")
    optional, _ = _counts(pairs, "participant_skills", "optional_skills")
    return {
        "covered": covered,
        "required": required,
        "optional_covered": optional,
        "listed": pairs.world.participants.listed_skills[pairs.p],
    }


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


def _summed(m: sp.csr_matrix) -> sp.csr_matrix:
    """m with sorted, summed indices per row: m itself when it has them (checked once per
    matrix), otherwise a canonical copy kept on m (so worlds sharing the matrix share it)."""
    if m.has_canonical_format:
        return m

    def build():
        c = m.copy()
        c.sum_duplicates()
        return c

    return cached(m, "_summed", build)


def _entries(m: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored entries of these rows (of a `_summed` matrix), flattened: (position in
    `rows`, column, value), rows in the given order, columns ascending within each."""
    lens = m.indptr[rows + 1] - m.indptr[rows]
    at = _ranges(m.indptr[rows], lens)
    return np.repeat(np.arange(len(rows)), lens), m.indices[at], m.data[at]


def typical_skills(w: World, p: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For pairs (p[i], o[i]): the skill columns that the opening requires and the participant
    likely has, less those they list — the nonzero entries of ``likely[p] ∘ required[o] −
    likely[p] ∘ required[o] ∘ listed[p]``, with the same products — flattened: (pair of each
    entry, column), pairs ascending, columns ascending within a pair. All pairs at once (a
    sorted merge of (pair, column) keys), no per-pair Python: a national refresh quotes
    these for ~6M pairs, a live list for about ten; scipy's sparse fancy indexing and
    products cost ~0.1 ms per call."""
    p, o = np.asarray(p, dtype=np.int64), np.asarray(o, dtype=np.int64)
    likely, required, listed = _summed(w.likely_skills), _summed(w.required_skills), _summed(w.participant_skills)
    width = max(likely.shape[1], required.shape[1], 1)
    lp, lc, lv = _entries(likely, p)
    rp, rc, rv = _entries(required, o)
    lk, rk = lp * width + lc, rp * width + rc  # each ascending: pairs in order, columns sorted within
    at = np.minimum(np.searchsorted(lk, rk), max(len(lk) - 1, 0))
    hit = np.flatnonzero(lk[at] == rk) if len(lk) else np.zeros(0, dtype=np.int64)
    keys, both = rk[hit], lv[at[hit]] * rv[hit]
    tp, tc, tv = _entries(listed, p)
    tk = tp * width + tc
    at = np.minimum(np.searchsorted(tk, keys), max(len(tk) - 1, 0))
    listed_too = np.flatnonzero(tk[at] == keys) if len(tk) else np.zeros(0, dtype=np.int64)
    both[listed_too] = both[listed_too] - both[listed_too] * tv[at[listed_too]]
    keys = keys[both != 0]
    return keys // width, keys % width


def typical_not_listed(w: World, p: np.ndarray, o: np.ndarray) -> list[np.ndarray]:
    """`typical_skills` per pair: the columns of each, ascending."""
    pair, cols = typical_skills(w, p, o)
    return np.split(cols, np.searchsorted(pair, np.arange(1, len(p))))


def _likely_values(pairs: Pairs) -> Values:
    w = pairs.world
    covered, n_req = coverage_counts(pairs, "likely_skills")
    stated, _ = _counts(pairs, "participant_skills")
    # Only inference is news here: quote the occupations and the skills that count because they
    # are typical, not listed (-1: nothing inferred counts, the `skills` reason says it all).
    source = np.where(covered > stated, w.participants.inferred_from[pairs.p], -1)
    names = np.full(len(pairs), "", dtype=object)
    sources = np.full(len(pairs), "", dtype=object)
    quote = np.flatnonzero(source >= 0)
    if len(quote):
        p, o = pairs.p[quote], pairs.o[quote]  # the skill ids only for the pairs that quote them
        vocab = cached(w, "_vocab_names", lambda: np.array(list(w.skill_vocab), dtype=object))
        pair, cols = typical_skills(w, p, o)
        cuts = np.searchsorted(pair, np.arange(len(quote) + 1)).tolist()
        flat = vocab[cols].tolist()
        names[quote] = ["|".join(flat[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
        sources[quote] = w.participants.inferred_sources_text(p)
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
    return t(
        "likely_skills.inferred",
        lang,
        skills=skill_names(shown, lang),
        occupations=quoted_list([occupations.label(c, lang).lower() for c in named], lang),
        covered=cov,
        required=req,
    )


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
    return {
        "covered": int(v["covered"]),
        "required": int(v["required"]),
        "inferred_from": f"{source:04d}" if source >= 0 else None,
        "likely": [taxonomy.label(s, lang) for s in str(v.get("likely") or "").split("|") if s],
        "sources": [f"{int(c):04d}" for c in str(v.get("sources") or "").split("|") if c],
    }


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
