"""Levels only, computed once per distinct key instead of once per pair (the batch's hot path).

The nightly batch needs nothing but each pair's level (reasons are rendered from stored
levels when a list is read), and the costly levels depend on far less than the pair:
occupation proximity on (participant, opening STYRK code), experience on (participant,
opening STYRK code), skill coverage on (participant, opening's required skills). So the
participants of a chunk are compacted to a few hundred or thousand rows, a small table is
built per (participant, key), and pairs gather from it. Every function here returns exactly
the level its criterion's ``evaluate`` gives (same arithmetic, same order of additions);
tests/test_levels_by_key.py checks that on random pairs.
"""
from __future__ import annotations

import numpy as np

from matching.pairs import Pairs
from matching.taxonomy import proximity as prox


def compact(p: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows, each pair's position among them), linear in pairs + n, no sort."""
    mark = np.zeros(n, dtype=bool)
    mark[p] = True
    rows = np.flatnonzero(mark)
    pos = np.zeros(n, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    return rows, pos[p]


def _cache(obj, name: str, build):
    hit = obj.__dict__.get(name)
    if hit is None:
        hit = obj.__dict__[name] = build()
    return hit


def occupation_level(pairs: Pairs) -> np.ndarray:
    """Best proximity level over the participant's desired codes: a (participant × code)
    table per chunk, the max of the level table's rows (level dominates the rank key, so the
    argmax cell ``best_match`` picks has the maximal level)."""
    n = len(pairs)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w, tab = pairs.world, prox.table()
    target = _cache(w.openings, "_styrk_rows", lambda: tab.rows(w.openings.code))[pairs.o]
    rows, pl = compact(pairs.p, len(w.participants))
    desired = np.asarray(w.participants.desired_codes[rows], dtype=np.int64)
    if desired.shape[1] == 0:
        desired = np.full((len(rows), 1), -1, dtype=np.int64)
    per_p = tab.level[tab.rows(desired)].max(axis=1)  # (participants, codes + 1)
    return per_p[pl, target].astype(np.int64)


def experience_years(pairs: Pairs) -> np.ndarray:
    """Credited years (see ``occupation._experience``), summed over the participant's entries
    in column order as ``_experience`` does, once per distinct (participant, opening code)."""
    from matching.criteria.occupation import EXPERIENCE_CREDIT

    n = len(pairs)
    if n == 0:
        return np.zeros(0)
    w, tab = pairs.world, prox.table()
    codes, years = w.participants.experience
    target = _cache(w.openings, "_styrk_rows", lambda: tab.rows(w.openings.code))[pairs.o]
    rows, pl = compact(pairs.p, len(w.participants))
    width = len(tab.codes) + 1
    key = pl * width + target
    mark = np.zeros(len(rows) * width, dtype=bool)
    mark[key] = True
    need = np.flatnonzero(mark)
    kp, kt = rows[need // width], need % width
    c, y = codes[kp], years[kp]
    total = (y * EXPERIENCE_CREDIT[prox.level_of_rows(tab.rows(c), kt)]).sum(axis=1)
    table = np.zeros(len(mark))
    table[need] = total
    return table[key]


#: Largest (participants × skills) table `coverage` fills per call (float32 cells, 32 MB);
#: beyond it (a live opening's ~100k candidates) it binary-searches a compact key list instead.
DENSE_MAX = 8_000_000


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(start, start + len)`` for every (start, len), without a loop."""
    total = int(lens.sum())
    return np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)


def _canonical(w, name: str):
    """The World's participant skill matrix as CSR with sorted, summed indices (once per
    snapshot), so each (participant, skill) is at most one stored value."""
    def build():
        m = getattr(w, name).tocsr(copy=True)
        m.sum_duplicates()
        return m
    return _cache(w, f"_csr_{name}", build)


def _required(pairs: Pairs):
    """Each pair's required skills, flattened (pair, compacted participant, skill column among
    those required here, weight), and the compacted participants and those columns. Built once
    per Pairs: both skill criteria gather the same entries."""
    def build():
        w = pairs.world
        req = w.required_skills
        lens = np.diff(req.indptr)[pairs.o]
        at = _ranges(req.indptr[pairs.o], lens)
        pair_of = np.repeat(np.arange(len(pairs)), lens)
        rows, pl = compact(pairs.p, len(w.participants))
        cols, col = compact(req.indices[at], req.shape[1])
        return pair_of, pl[pair_of], col, req.data[at], rows, cols
    return _cache(pairs, "_required_skills", build)


def coverage(pairs: Pairs, have: str) -> tuple[np.ndarray, np.ndarray]:
    """(covered, required) per pair, as ``w.<have>[p].multiply(required[o]).sum(1)`` and
    ``required[o].sum(1)`` give them: the same products, summed in the same order. The
    participants of these pairs and the skill columns their openings require are compacted
    into a small table (or, when that would be large, a sorted key list searched per
    required skill), so a lookup touches memory the size of the chunk, not of the World."""
    w = pairs.world
    req = w.required_skills
    n_req = _cache(w.openings, "_n_required", lambda: np.asarray(req.sum(axis=1)).ravel())[pairs.o]
    if len(pairs) == 0 or int(np.diff(req.indptr)[pairs.o].sum()) == 0:
        return np.zeros(len(pairs)), n_req
    pair_of, who, col, weight, rows, cols = _required(pairs)
    m = _canonical(w, have)
    colmap = np.full(m.shape[1], -1, dtype=np.int64)
    colmap[cols] = np.arange(len(cols))
    lens = np.diff(m.indptr)[rows]
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


def likely_coverage(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """``coverage`` by the likely skills (listed ∪ typical of every occupation with experience)."""
    return coverage(pairs, "likely_skills")


def listed_coverage(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """``coverage`` by the listed skills: its own search, since typical skills now add to a
    profile's likely ones whether it lists skills or not."""
    return coverage(pairs, "participant_skills")
