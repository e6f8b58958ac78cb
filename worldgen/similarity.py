"""The generator's own notion of how close two occupations are.

The behavioural model (advisers searching by occupation, a participant's wish, an employer
judging experience) needs a similarity between STYRK-08 unit groups. It deliberately does
*not* read the engine's proximity table (``matching.taxonomy.proximity``): the engine is
measured on the fixtures, so improving its table must not rewrite the world it is measured
on. Two pieces of evidence, the better one wins:

- **the STYRK-08 hierarchy**: the number of leading digits two codes share — 4 the same unit
  group, 3 the same minor group, 2 the same sub-major group, 1 the same major group;
- **a small hand-set affinity** between catalogue occupations people move between across the
  hierarchy (shop ↔ customer centre, warehouse ↔ forklift, cook ↔ kitchen assistant, …):
  ``CLOSE`` pairs below, and ``NEAR`` for any two occupations of one catalogue cluster
  (occupations people often seek together, :mod:`.catalogue`).

Levels: 4 same, 3 close, 2 near, 1 related, 0 far. The table is symmetric and frozen here.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from worldgen.catalogue import OCCUPATIONS

SAME, CLOSE, NEAR, RELATED, FAR = 4, 3, 2, 1, 0

#: Occupations whose workers readily take each other's jobs, across the STYRK hierarchy.
CLOSE_PAIRS: tuple[tuple[str, str], ...] = (
    ("5223", "5244"),
    ("5223", "4222"),
    ("5244", "4222"),  # shop, telephone sales, customer centre
    ("4321", "9321"),
    ("4321", "8344"),  # warehouse, hand packer, forklift
    ("8322", "8332"),
    ("8332", "8331"),
    ("8332", "8342"),  # van, lorry, bus, construction machinery
    ("5321", "2223"),
    ("5329", "2223"),
    ("5322", "2224"),  # care worker / assistant, nurse, social educator
    ("5120", "9412"),
    ("9412", "5246"),
    ("5131", "5246"),  # cook, kitchen assistant, fast food, waiter
    ("7115", "7131"),
    ("7115", "7126"),
    ("7131", "7126"),
    ("7126", "7411"),  # carpenter, painter, plumber, electrician
    ("8160", "7512"),
    ("7212", "7126"),  # food processing, baker; welder, plumber
    ("5311", "5312"),
    ("5312", "2341"),
    ("5311", "2224"),  # kindergarten, school assistant, teacher
)
#: Occupations of different clusters still often sought together.
NEAR_PAIRS: tuple[tuple[str, str], ...] = (
    ("4321", "8160"),
    ("9112", "9412"),
    ("9112", "5153"),
    ("4224", "4222"),
    ("4110", "4222"),
    ("5120", "8160"),
    ("5414", "5153"),
    ("6113", "9612"),
    ("9313", "8342"),
)


@lru_cache(maxsize=1)
def _table() -> tuple[np.ndarray, np.ndarray]:
    """(row of int code + 1, affinity matrix); the last row/column is "not in the catalogue"."""
    codes = [o.code for o in OCCUPATIONS]
    pos = {c: i for i, c in enumerate(codes)}
    n = len(codes)
    index = np.full(10_001, n, dtype=np.int64)
    index[[int(c) + 1 for c in codes]] = np.arange(n)
    aff = np.zeros((n + 1, n + 1), dtype=np.int8)
    cluster = np.array([o.cluster for o in OCCUPATIONS])
    aff[:n, :n] = np.where(cluster[:, None] == cluster[None, :], NEAR, FAR)
    for pairs, level in ((NEAR_PAIRS, NEAR), (CLOSE_PAIRS, CLOSE)):
        for a, b in pairs:
            i, j = pos[a], pos[b]
            aff[i, j] = aff[j, i] = max(aff[i, j], level)
    return index, aff


def level(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Level of each pair of integer codes (broadcasting); -1 (padding) is FAR from anything."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    shared = sum(((a // div) == (b // div)).astype(np.int8) for div in (1000, 100, 10, 1))
    index, aff = _table()
    out = np.maximum(shared, aff[index.take(a + 1, mode="clip"), index.take(b + 1, mode="clip")])
    return np.where((a < 0) | (b < 0), FAR, out).astype(np.int8)


def best_level(target: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Closest level of any of ``wanted`` (-1 padded, one extra trailing axis) to ``target``."""
    target = np.asarray(target, dtype=np.int64)
    if np.asarray(wanted).shape[-1] == 0:
        return np.zeros(target.shape, dtype=np.int8)
    return level(target[..., None], wanted).max(axis=-1)
