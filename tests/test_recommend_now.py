"""The recommended-now step's orchestration (issue 10, the national refresh's tail): each faster
piece computes exactly what the plain one it replaced computes — the same arrays, shares to the
last bit, the same rows — on random instances (hypothesis)."""

from __future__ import annotations

import gc
import pickle

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import allocation, batch
from matching.store import lists
from tests.test_allocation import instances

KW = {"factor": 0.5, "depth": 3, "strength": 0.6, "scale": 0.3, "head": 2}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.booleans())
def test_the_shards_tasks_carry_split_shares_to_the_bit_and_their_pairs_exactly(inst, float32):
    group, other, score, pos, cap, employer, contacts, per_list, shards = inst
    if float32:  # as the batch hands them over: shown scores that float32 holds exactly
        score = score.astype(np.float32).astype(float)
    free = cap / 2
    shard = shards[group] if len(group) else group
    kw = {**KW, "per_list": per_list}
    tasks = allocation.price_shard_tasks(group, other, score, pos, shard, free, employer=employer, contacts_left=contacts, **kw)
    # the plain split: every pair's share of its opening by split_share, each shard's openings by np.unique
    share = allocation.split_share(shard, other, allocation.split_weights(other, score, pos, free, **kw), free)
    seen = []
    for idx, task in tasks:
        assert (shard[idx] == shard[idx[0]]).all() and (np.diff(idx) > 0).all()
        openings, local = np.unique(other[idx], return_inverse=True)
        assert np.array_equal(task.openings, openings) and np.array_equal(task.other, local)
        assert np.array_equal(task.free[local], share[idx])  # exact, not close
        for mine, theirs in ((task.group, group), (task.score, score), (task.pos, pos)):
            assert np.array_equal(np.asarray(mine, dtype=theirs.dtype), theirs[idx])
        assert task.score.dtype == (np.float32 if np.array_equal(score.astype(np.float32), score) else float)
        seen.append(idx)
    assert sorted(np.concatenate(seen).tolist() if seen else []) == list(range(len(group)))


def _parts(group, other, score, pos, shards, rng):
    """The personal lists cut into parts as shards hand them over: each part its participants'
    whole lists, participants in any order."""
    parts = []
    for s in np.unique(shards):
        mine = rng.permutation(np.flatnonzero(shards == s))
        idx = np.concatenate([np.flatnonzero(group == p) for p in mine] + [np.zeros(0, dtype=np.int64)])
        parts.append((group[idx].astype(np.int32), other[idx].astype(np.int32), score[idx].astype(np.float32), pos[idx].astype(np.int16)))
    return parts


def _sorted(parts):
    """What recommend_now did before: concatenated, then sorted stably by (participant, rank)."""
    g, o, s, p = (np.concatenate([part[i] for part in parts]).astype(np.int64 if i != 2 else float) for i in range(4))
    order = np.argsort(g * (int(p.max()) + 1 if len(p) else 1) + p, kind="stable")
    return g[order], o[order], s[order], p[order]


@settings(max_examples=100, deadline=None)
@given(instances(), st.integers(0, 2**32 - 1))
def test_personal_pairs_are_the_sorted_concatenation(inst, seed):
    group, other, score, pos, *_, shards = inst
    parts = _parts(group, other, score, pos, shards, np.random.default_rng(seed))
    n_p = len(shards)
    for got, want in zip(batch._personal_pairs(parts, n_p), _sorted(parts)):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    # lists cut anywhere across parts, or missing a rank (no shard hands over either): sorted all the same
    whole = [np.concatenate([part[i] for part in parts]) for i in range(4)]
    half = len(group) // 2
    for odd in ([tuple(a[half:] for a in whole), tuple(a[:half] for a in whole)], [tuple(a[1:] for a in whole)]):
        for got, want in zip(batch._personal_pairs(odd, n_p), _sorted(odd)):
            assert np.array_equal(got, want)
    concatenated = batch._personal_pairs(parts, n_p, ordered=False)
    for i, got in enumerate(concatenated):
        assert np.array_equal(got, np.concatenate([part[i] for part in parts]))


def _rows_plainly(pid, oid, note, place):
    """The recommended-now rows as the per-pair loop built them."""
    rows, a = [], 0
    while a < len(pid):
        b = a + 1
        while b < len(pid) and pid[b] == pid[a]:
            b += 1
        notes = {oid[i]: tuple(note[i]) for i in range(a, b)}
        kept = sorted((i for i in range(a, b) if note[i][0]), key=place.__getitem__)
        rows.append((pid[a], *lists.pack_recommended([oid[i] for i in kept], notes)))
        a = b
    return rows


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_recommended_rows_are_the_per_pair_loops(seed, n_chunks):
    rng = np.random.default_rng(seed)
    n_p, n_o = int(rng.integers(1, 12)), int(rng.integers(1, 9))
    ids_p = np.array([f"p{i}" for i in range(n_p)], dtype=object)
    ids_o = np.array([f"o-{i}" for i in range(n_o)], dtype=object)
    g, o, place = [], [], []
    for p in range(n_p):
        k = int(rng.integers(1, n_o + 1))
        g += [p] * k
        o += rng.choice(n_o, k, replace=False).tolist()
        place += rng.permutation(k).tolist()
    g, o, place = np.array(g), np.array(o), np.array(place)
    note = np.stack(
        [
            rng.integers(0, 2, len(g)),
            rng.integers(0, 40, len(g)),
            rng.integers(0, 3, len(g)),
            rng.integers(0, 60, len(g)),
            rng.integers(0, 2, len(g)),
        ],
        axis=1,
    )
    want = _rows_plainly(ids_p[g].tolist(), ids_o[o].tolist(), note.tolist(), place.tolist())
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    bounds = np.r_[starts, len(g)]
    cut = [i * len(starts) // n_chunks for i in range(n_chunks + 1)]
    got = []
    for a, b in zip(cut[:-1], cut[1:]):
        if b > a:
            chunk = batch._row_chunk(ids_p[g[starts[a:b]]], bounds[a : b + 1], ids_o, o, note, place)
            got += batch._recommended_rows(pickle.loads(pickle.dumps(chunk)))  # as a worker gets it
    assert got == want
    assert gc.isenabled()  # paused while the rows are built, then left as it was
