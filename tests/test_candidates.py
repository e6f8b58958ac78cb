"""Blocking of a participant's candidates (`Index.for_participants`) against the declaration.

The index applies `within_commute` to each pair as declared, but the other constraints once per
participant and opening class (`candidates.OPENING_KEYS`), and keeps the lists it makes
(`_Memo`). Whatever it keeps or forgets, its answer must be exactly `passes` over every pair:
the same pairs, in the same order (participants as asked, each one's openings by row), with
the distances `Pairs` computes, bit for bit.
"""

from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import candidates, runtime
from matching.pairs import Pairs
from matching.world import World
from tests.conftest import TODAY
from tests.synthetic import AS_OF, build_world, opening, participant

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def worlds(draw) -> World:
    """Small worlds whose homes often share a point, with commute limits sometimes all distinct."""
    n_p, n_o = draw(st.integers(1, 14)), draw(st.integers(1, 16))
    ps = [draw(participant(f"P-{i:03d}")) for i in range(n_p)]
    os_ = [draw(opening(f"O-{i:03d}")) for i in range(n_o)]
    limits = draw(st.sampled_from(["drawn", "distinct", "exactly an opening's distance"]))
    if limits == "distinct":
        for p in ps:
            p["max_commute_km"] = draw(st.floats(0.5, 80, allow_nan=False))
    elif limits == "exactly an opening's distance":  # the limit is inclusive, to the bit
        km = Pairs.build(build_world(ps, os_), np.arange(n_p), [draw(st.integers(0, n_o - 1)) for _ in ps], 0).distance_km
        for p, d in zip(ps, km.tolist()):
            p["max_commute_km"] = d if d > 0 else p["max_commute_km"]
    return build_world(ps, os_)


def _reference(world: World, p_idx: np.ndarray, day: dt.date, kind: str) -> Pairs:
    """Every (participant, opening) pair, participants as asked and openings by row, kept where
    `passes` holds (and the opening is of the kind asked for)."""
    n_o = len(world.openings)
    pairs = Pairs.build(world, np.repeat(p_idx, n_o), np.tile(np.arange(n_o), len(p_idx)), day.toordinal())
    keep = candidates.passes(pairs)
    if kind != "any":
        keep &= world.openings.frame["kind"].to_numpy()[pairs.o] == kind
    return pairs.subset(keep)


def _same(found: Pairs, expected: Pairs) -> None:
    assert found.p.tolist() == expected.p.tolist()
    assert found.o.tolist() == expected.o.tolist()
    assert found.as_of.tolist() == expected.as_of.tolist()
    fresh = Pairs.build(found.world, found.p, found.o, found.as_of).distance_km
    assert found.distance_km.tobytes() == fresh.tobytes()


@FAST
@given(worlds(), st.sampled_from(["any", "job", "trial"]), st.data())
def test_a_participants_candidates_are_exactly_the_pairs_that_pass_every_constraint(world, kind, data):
    """Any participants (in any order, repeated or not), in the World and in its employer view
    (homes at area centres), asked twice (the second time from what the index kept) and of an
    index that keeps nothing."""
    n = len(world.participants)
    p_idx = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2 * n)), dtype=np.int64)
    for w in (world, world.employer_view):
        expected = _reference(w, p_idx, AS_OF, kind)
        index = candidates.index(w)
        _same(index.for_participants(p_idx, AS_OF, kind), expected)
        _same(index.for_participants(p_idx, AS_OF, kind), expected)
        _same(candidates.Index(w, memo_bytes=0).for_participants(p_idx, AS_OF, kind), expected)


@FAST
@given(worlds())
def test_an_index_asked_about_another_day_answers_for_that_day(world):
    """Deadlines pass between the days: what the index kept for one day is not the other's."""
    everyone = np.arange(len(world.participants))
    index = candidates.Index(world)
    for day in (AS_OF, AS_OF + dt.timedelta(days=10), AS_OF):
        _same(index.for_participants(everyone, day), _reference(world, everyone, day, "any"))


@FAST
@given(worlds())
def test_a_long_list_of_participants_is_taken_in_chunks_with_the_same_answer(world):
    everyone = np.arange(len(world.participants))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(candidates, "CHUNK", 3)
        _same(candidates.Index(world).for_participants(everyone[::-1], AS_OF), _reference(world, everyone[::-1], AS_OF, "any"))


def test_a_pickled_index_starts_with_nothing_kept_and_answers_the_same(world):
    """The Dask backend sends the World with its index to the workers."""
    snap = runtime.snapshot(world).world
    everyone = np.arange(len(snap.participants))
    index = candidates.index(snap)
    before = index.for_participants(everyone, TODAY)
    _same(before, _reference(snap, everyone, TODAY, "any"))
    assert index._memo.items
    copy = pickle.loads(pickle.dumps(index))
    assert not copy._memo.items and copy._memo.size == 0
    _same(copy.for_participants(everyone, TODAY), before)


def test_what_an_index_keeps_stays_within_its_budget():
    memo = candidates._Memo(100)
    for i in range(10):
        memo.put(("group", i), i, 30)
        assert memo.size <= 100 and memo.size == 30 * len(memo.items)
    assert memo.get(("group", 0)) is None and memo.get(("group", 9)) == 9
    memo.put(("group", 10), 10, 500)  # larger than the budget alone: kept until the next
    assert list(memo.items) == [("group", 10)]
