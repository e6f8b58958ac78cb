"""The batch's level-only shortcuts (one evaluation per distinct key, `criteria/by_key.py`)
give exactly the levels of each criterion's full `evaluate`, on any pairs in any order."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.criteria import ALL, by_key
from matching.pairs import Pairs
from matching.store.db import engine_for
from matching.store.snapshot import load_world
from tests.synthetic import AS_OF, worlds

FAST = [c for c in ALL if c.fast_level is not None]


def _assert_same_levels(pairs: Pairs) -> None:
    for c in FAST:
        expected = c.evaluate(pairs).level
        got = c.level_of(pairs)
        assert got.shape == expected.shape, c.name
        assert got.tolist() == np.asarray(expected).tolist(), c.name


def test_the_costly_criteria_have_a_shortcut():
    assert {c.name for c in FAST} == {"occupation", "experience", "skills", "likely_skills"}


@pytest.fixture(params=["table", "key list"])
def skill_lookup(request, monkeypatch):
    """Skill coverage looks skills up in a small dense table, or, past `DENSE_MAX` cells (a live
    opening's many candidates), in a sorted key list: both must give the full evaluation's levels."""
    if request.param == "key list":
        monkeypatch.setattr(by_key, "DENSE_MAX", 0)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(worlds(max_participants=8, max_openings=12), st.integers(0, 2**32 - 1), st.integers(0, 200))
def test_shortcut_levels_equal_full_evaluation(skill_lookup, world, seed, n):
    rng = np.random.default_rng(seed)
    p = rng.integers(0, len(world.participants), n)  # unsorted, repeated, any pair
    o = rng.integers(0, len(world.openings), n)
    _assert_same_levels(Pairs.build(world, p, o, AS_OF.toordinal()))


def test_shortcut_levels_on_the_fixture_world(skill_lookup, world):
    """Real codes, real ESCO skill sets, free-text skills matched fuzzily: every pair."""
    with engine_for(world.database_url).connect() as conn:
        w = load_world(conn)
    n_p, n_o = len(w.participants), len(w.openings)
    p, o = np.repeat(np.arange(n_p), n_o), np.tile(np.arange(n_o), n_p)
    order = np.random.default_rng(0).permutation(len(p))[:200_000]
    _assert_same_levels(Pairs.build(w, p[order], o[order], AS_OF.toordinal()))


@settings(max_examples=5, deadline=None)
@given(worlds())
def test_shortcut_levels_of_no_pairs(world):
    none = np.zeros(0, dtype=np.int64)
    _assert_same_levels(Pairs.build(world, none, none, AS_OF.toordinal()))
