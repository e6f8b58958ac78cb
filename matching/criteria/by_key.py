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


def _keys(w, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(sorted participant × skill keys, their values) of a participant skill matrix, once per
    snapshot: membership of a (participant, skill) is then one binary search."""
    def build():
        m = getattr(w, name).tocsr()
        m.sort_indices()
        rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
        return rows * m.shape[1] + m.indices, m.data
    return _cache(w, f"_keys_{name}", build)


def coverage(pairs: Pairs, have: str) -> tuple[np.ndarray, np.ndarray]:
    """(covered, required) per pair, as ``w.<have>[p].multiply(required[o]).sum(1)`` and
    ``required[o].sum(1)``: one binary search per (pair, required skill) into the
    participant's skills instead of a sparse row product per pair."""
    w = pairs.world
    req = w.required_skills
    n_req = _cache(w.openings, "_n_required", lambda: np.asarray(req.sum(axis=1)).ravel())[pairs.o]
    lens = np.diff(req.indptr)[pairs.o]
    total = int(lens.sum())
    if total == 0:
        return np.zeros(len(pairs)), n_req
    keys, values = _keys(w, have)
    pair_of = np.repeat(np.arange(len(pairs)), lens)
    at = np.repeat(req.indptr[pairs.o] - (np.cumsum(lens) - lens), lens) + np.arange(total)
    want = pairs.p[pair_of] * req.shape[1] + req.indices[at]
    pos = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
    got = np.where(keys[pos] == want, values[pos], 0) * req.data[at] if len(keys) else np.zeros(total)
    return np.bincount(pair_of, weights=got, minlength=len(pairs)), n_req


def likely_coverage(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """``coverage`` by the likely skills (listed ∪ typical of every occupation with experience)."""
    return coverage(pairs, "likely_skills")


def listed_coverage(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """``coverage`` by the listed skills: its own search, since typical skills now add to a
    profile's likely ones whether it lists skills or not."""
    return coverage(pairs, "participant_skills")
