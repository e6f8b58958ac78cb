"""How close two STYRK-08 unit groups are, as a code × code lookup table.

Three kinds of evidence, each lifting a pair to an ordered level (the best one wins, so more
evidence can never lower a level and the additive model stays monotone):

======  =====================  ===================================  ===========================
level   STYRK hierarchy        ESCO core skills of the opening's    Swedish substitutability
                               occupation the desired one has       (Arbetsförmedlingen)
======  =====================  ===================================  ===========================
4 same  same unit group        –                                    –
3 close same minor group (3)   at least half (``CLOSE_SHARE``)      75 %
2 near  same sub-major (2)     at least a third (``NEAR_SHARE``)    25 %
1 rel.  same major group (1)   at least ``RELATED_MIN`` skills      –
======  =====================  ===================================  ===========================

The skill and substitution evidence is precomputed by ``tools/build_occupation_proximity.py``
into ``reference/occupation_proximity.csv``; the table is directional (``from`` = a desired
occupation, ``to`` = an opening's): a nurse has most of a care worker's core skills, not the
reverse. Substitution links are symmetric. Thresholds live here so they are read with the
code that uses them; the arrays are built once per process (~1 MB).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from matching.taxonomy import occupations
from matching.taxonomy._files import reference_path

CLOSE_SHARE = 0.5
NEAR_SHARE = 1 / 3
RELATED_MIN = 2
SAME, CLOSE, NEAR, RELATED, FAR = 4, 3, 2, 1, 0


@dataclass(frozen=True, eq=False)
class ProximityTable:
    codes: tuple[str, ...]  # row/column i ↔ unit group codes[i]; the last row/column is "no code"
    index: np.ndarray  # int code + 1 (0-9999 → 1-10000) → row; padding/unknown → the "no code" row
    level: np.ndarray  # (n+1, n+1) int8
    shared_digits: np.ndarray  # (n+1, n+1) int8
    shared_core: np.ndarray  # (n+1, n+1) int8: opening's core skills the desired occupation has
    n_core: np.ndarray  # (n+1,) int8: core skills of each (opening) occupation
    substitute_pct: np.ndarray  # (n+1, n+1) int8: 0, 25 or 75

    def rows(self, codes: np.ndarray) -> np.ndarray:
        """Table rows of integer codes; -1 (padding) and unknown codes → the "no code" row."""
        # index[0] and index[-1] are the "no code" row, so one clipped gather handles padding.
        return self.index.take(np.asarray(codes, dtype=np.int64) + 1, mode="clip")


def _digits(codes: list[str]) -> np.ndarray:
    arr = np.array([int(c) for c in codes])
    out = np.zeros((len(arr), len(arr)), dtype=np.int8)
    for div in (1000, 100, 10, 1):
        out += arr[:, None] // div == arr[None, :] // div
    return out


@lru_cache(maxsize=1)
def table() -> ProximityTable:
    codes = tuple(sorted(occupations.unit_groups()))
    n = len(codes)
    pos = {c: i for i, c in enumerate(codes)}
    index = np.full(10_002, n, dtype=np.int32)
    index[[int(c) + 1 for c in codes]] = np.arange(n)

    digits = np.zeros((n + 1, n + 1), dtype=np.int8)
    digits[:n, :n] = _digits(list(codes))
    ev = pd.read_csv(reference_path("occupation_proximity.csv"), dtype={"from_code": str, "to_code": str})
    ev = ev[ev["from_code"].isin(pos) & ev["to_code"].isin(pos)]
    i = ev["from_code"].map(pos).to_numpy()
    j = ev["to_code"].map(pos).to_numpy()
    shared = np.zeros((n + 1, n + 1), dtype=np.int8)
    subst = np.zeros((n + 1, n + 1), dtype=np.int8)
    shared[i, j] = ev["shared_core"].to_numpy()
    subst[i, j] = ev["substitute_pct"].to_numpy()
    n_core = np.zeros(n + 1, dtype=np.int8)
    n_core[j] = ev["n_core"].to_numpy()

    share = shared / np.maximum(n_core[None, :], 1)
    level = np.maximum.reduce(
        [
            np.where(digits == 4, SAME, np.where(digits == 3, CLOSE, np.where(digits == 2, NEAR, np.minimum(digits, 1)))),
            np.where(share >= CLOSE_SHARE, CLOSE, np.where(share >= NEAR_SHARE, NEAR, np.where(shared >= RELATED_MIN, RELATED, FAR))),
            np.where(subst >= 75, CLOSE, np.where(subst > 0, NEAR, FAR)),
        ]
    ).astype(np.int8)
    level[n, :] = level[:, n] = FAR  # "no code" is related to nothing
    digits[n, :] = digits[:, n] = 0
    return ProximityTable(codes, index, level, digits, shared, n_core, subst)


def best_match(desired: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """For each pair, the desired code (row of ``desired``, -1 padded) closest to ``target``.

    Ties on level go to the one with more evidence (shared core skills, then substitution),
    so the reason quotes the strongest fact. Pure lookups into flat tables: one gather for the
    ranking key over every desired code, then one per quoted value for the chosen code only.
    """
    tab = table()
    n = len(target)
    desired = np.asarray(desired, dtype=np.int64)
    if desired.ndim != 2:  # reshape(0, -1) is ambiguous: an empty pair set keeps its 2-D shape
        desired = desired.reshape(n, -1) if n else np.empty((0, 0), dtype=np.int64)
    if desired.shape[1] == 0:
        desired = np.full((n, 1), -1, dtype=np.int64)
    width = np.int32(len(tab.codes) + 1)
    c = tab.rows(np.asarray(target))
    flat = tab.rows(desired) * width + c[:, None]
    best = np.argmax(_rank_key(tab).take(flat), axis=1)
    rows = np.arange(n)
    cell = flat[rows, best]
    return {
        "level": tab.level.ravel().take(cell).astype(np.int64),
        "desired_code": desired[rows, best],
        "shared_digits": tab.shared_digits.ravel().take(cell).astype(np.int64),
        "shared_core": tab.shared_core.ravel().take(cell).astype(np.int64),
        "n_core": tab.n_core.take(c).astype(np.int64),
        "substitute_pct": tab.substitute_pct.ravel().take(cell).astype(np.int64),
    }


def level_matrix(codes: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Level from each code in a row of ``codes`` (-1 padded) to that row's ``target`` code."""
    tab = table()
    return level_of_rows(tab.rows(np.asarray(codes, dtype=np.int64)), tab.rows(np.asarray(target)))


def level_of_rows(from_rows: np.ndarray, to_rows: np.ndarray) -> np.ndarray:
    """:func:`level_matrix` on table rows (callers that hold rows already skip the lookup)."""
    tab = table()
    width = np.int64(len(tab.codes) + 1)
    flat = np.asarray(from_rows, dtype=np.int64) * width + np.asarray(to_rows, dtype=np.int64)[:, None]
    return tab.level.ravel().take(flat).astype(np.int64)


@lru_cache(maxsize=1)
def _rank_key(tab: ProximityTable) -> np.ndarray:
    """Flat level-then-evidence key: level dominates, then shared core skills, then substitution."""
    key = tab.level.astype(np.int32) * 10_000 + tab.shared_core.astype(np.int32) * 100 + tab.substitute_pct
    return key.ravel()


def proximity(from_code: str, to_code: str) -> dict[str, int]:
    """The table entry for one pair of unit groups (for people and tests, not the hot path)."""
    out = best_match(np.array([[int(from_code)]]), np.array([int(to_code)]))
    return {k: int(v[0]) for k, v in out.items()}
