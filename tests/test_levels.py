"""Each criterion's level (its fast path, computed per distinct key for every candidate pair)
is exactly the level the values its reason quotes imply (computed only for shown pairs, by
the straightforward arithmetic), on any pairs in any order; and every criterion's levels
come from one declaration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.criteria import ALL
from matching.criteria import base as criteria_base
from matching.criteria import skills as skill_criteria
from matching.pairs import Pairs
from matching.store.db import engine_for
from matching.store.snapshot import load_world
from tests.synthetic import AS_OF, worlds

CHECKED = [c for c in ALL if c.level_of_values is not None]


def _assert_same_levels(pairs: Pairs) -> None:
    for c in CHECKED:
        assert c.level_of_values is not None
        expected = c.level_of_values(c.values(pairs))
        got = c.level(pairs)
        assert got.shape == expected.shape, c.name
        assert got.tolist() == np.asarray(expected).tolist(), c.name


def test_the_costly_criteria_are_checked_against_their_values():
    assert {c.name for c in CHECKED} >= {"occupation", "experience", "skills", "likely_skills"}


@pytest.fixture(params=["table", "key list"])
def skill_lookup(request, monkeypatch):
    """Skill coverage looks skills up in a small dense table, or, past `DENSE_MAX` cells (a live
    opening's many candidates), in a sorted key list: both must give the values' levels."""
    if request.param == "key list":
        monkeypatch.setattr(skill_criteria, "DENSE_MAX", 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(worlds(max_participants=8, max_openings=12), st.integers(0, 2**32 - 1), st.integers(0, 200))
def test_fast_levels_equal_the_levels_of_the_quoted_values(skill_lookup, world, seed, n):
    rng = np.random.default_rng(seed)
    p = rng.integers(0, len(world.participants), n)  # unsorted, repeated, any pair
    o = rng.integers(0, len(world.openings), n)
    _assert_same_levels(Pairs.build(world, p, o, AS_OF.toordinal()))


@pytest.fixture(params=["mark", "sort"])
def compacting(request, monkeypatch):
    """`base.compact` marks a table of every row, or sorts the pairs when they are few next to
    the rows (a live request): both must give the same levels."""
    monkeypatch.setattr(criteria_base, "SORT_BELOW", 10**9 if request.param == "sort" else 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(worlds(max_participants=8, max_openings=12), st.integers(0, 2**32 - 1), st.integers(1, 60))
def test_fast_levels_of_one_openings_candidates(skill_lookup, compacting, world, seed, n):
    """An opening's candidates (one opening, one pair per participant or repeated, any order)
    take the criteria's one-opening paths (the opening's column of the proximity and credit
    tables): the same levels as the quoted values imply, and the same as those pairs scored
    among pairs of other openings."""
    rng = np.random.default_rng(seed)
    o = int(rng.integers(0, len(world.openings)))
    p = rng.integers(0, len(world.participants), n)
    one = Pairs.build(world, p, np.full(n, o), AS_OF.toordinal())
    _assert_same_levels(one)
    other = rng.integers(0, len(world.openings), n)
    mixed = Pairs.build(world, np.r_[p, p], np.r_[np.full(n, o), other], AS_OF.toordinal())
    for c in ALL:
        assert c.level(one).tolist() == c.level(mixed)[:n].tolist(), c.name


def test_fast_levels_on_the_fixture_world(skill_lookup, world):
    """Real codes, real ESCO skill sets, free-text skills matched fuzzily: every pair."""
    with engine_for(world.database_url).connect() as conn:
        w = load_world(conn)
    n_p, n_o = len(w.participants), len(w.openings)
    p, o = np.repeat(np.arange(n_p), n_o), np.tile(np.arange(n_o), n_p)
    order = np.random.default_rng(0).permutation(len(p))[:200_000]
    _assert_same_levels(Pairs.build(w, p[order], o[order], AS_OF.toordinal()))


@settings(max_examples=5, deadline=None)
@given(worlds())
def test_fast_levels_of_no_pairs(world):
    none = np.zeros(0, dtype=np.int64)
    _assert_same_levels(Pairs.build(world, none, none, AS_OF.toordinal()))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(max_participants=8, max_openings=12), st.integers(0, 2**32 - 1))
def test_levels_and_values_cover_the_same_pairs_in_range(world, seed):
    """Every criterion: one level per pair, within its declared levels (or not assessed),
    and one quoted value per pair for each value it quotes."""
    rng = np.random.default_rng(seed)
    n = 50
    for view in (world, world.employer_view):
        pairs = Pairs.build(view, rng.integers(0, len(view.participants), n), rng.integers(0, len(view.openings), n), AS_OF.toordinal())
        for c in ALL:
            level = np.asarray(c.level(pairs))
            assert level.shape == (n,), c.name
            assert ((level >= 0) & (level <= c.not_assessed_level)).all(), c.name
            assert c.sensitive or (level < c.n_levels).all(), c.name
            assert all(len(v) == n for v in c.values(pairs).values()), c.name


def test_threshold_levels_derive_count_and_binning_from_one_list():
    from matching.criteria.base import Levels

    up = Levels.from_thresholds("x", [0.25, 0.5])
    down = Levels.from_thresholds("x", [10.0, 0.0], "decreasing")
    assert len(up) == 3 and up.label_keys() == ("x.level.0", "x.level.1", "x.level.2")
    assert up.bin(np.array([0.0, 0.25, 0.49, 0.5, 1.0])).tolist() == [0, 1, 1, 2, 2]
    assert down.bin(np.array([20.0, 10.0, 5.0, 0.0, -3.0])).tolist() == [0, 1, 1, 2, 2]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(max_participants=8, max_openings=12), st.integers(0, 2**32 - 1), st.integers(-40, 40))
def test_values_move_to_another_day_only_through_on_day(world, seed, shift):
    """A stored list's quoted values are moved to today by each criterion's `on_day`
    (matching/serving.py): for a criterion that declares it, moving the values computed on one
    day equals computing them on the other; every other criterion's values do not depend on
    the day at all — so a new day-dependent criterion without `on_day` fails here."""
    rng = np.random.default_rng(seed)
    p = rng.integers(0, len(world.participants), 30)
    o = rng.integers(0, len(world.openings), 30)
    day0, day1 = AS_OF.toordinal(), AS_OF.toordinal() + shift
    then, now = Pairs.build(world, p, o, day0), Pairs.build(world, p, o, day1)
    for c in ALL:
        v0, v1 = c.values(then), c.values(now)
        for k in range(len(p)):
            one0 = {name: np.asarray(a)[k] for name, a in v0.items()}
            one1 = {name: np.asarray(a)[k] for name, a in v1.items()}
            moved = c.on_day(one0, day1) if c.on_day is not None else one0
            assert {n: np.asarray(x).tolist() for n, x in moved.items()} == {n: np.asarray(x).tolist() for n, x in one1.items()}, c.name


def test_adaptation_levels_in_integers_are_the_shares_levels():
    """`adaptation._level` bins covered / needs in integers: the same level as binning the share,
    for every count of needs there can be and every count of them covered."""
    from matching.criteria import adaptation
    from matching.world import NEED_CODES

    for n in range(len(NEED_CODES) + 1):
        for c in range(n + 1):
            share = adaptation.COVERAGE.bin(np.array([c / n if n else 1.0]))[0]
            assert int(share) == int(c == n) + int(2 * c >= n), (c, n)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(max_participants=8, max_openings=12), st.integers(0, 2**32 - 1))
def test_adaptation_levels_equal_the_shares_levels_in_both_views(world, seed):
    from matching.criteria import adaptation
    from matching.world import popcount

    def share_level(pairs: Pairs) -> np.ndarray:
        """The level as the share of needs covered states it (what `_level` computes in integers)."""
        needs, covered, assessed = adaptation._masks(pairs)
        n_needs, n_cov = popcount(needs), popcount(covered)
        level = adaptation.COVERAGE.bin(np.where(n_needs > 0, n_cov / np.maximum(n_needs, 1), 1.0))
        return level if assessed.all() else np.where(assessed, level, adaptation.coverage.not_assessed_level)

    rng = np.random.default_rng(seed)
    p = rng.integers(0, len(world.participants), 100)
    o = rng.integers(0, len(world.openings), 100)
    for view in (world, world.employer_view):
        pairs = Pairs.build(view, p, o, AS_OF.toordinal())
        assert adaptation._level(pairs).tolist() == share_level(pairs).tolist()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(max_participants=8, max_openings=12), st.integers(0, 2**32 - 1), st.integers(-400, 400))
def test_levels_from_class_tables_equal_their_arithmetic(world, seed, shift):
    """`base.by_classes` looks levels up in a (participant class × opening class) table built
    once per snapshot (and day): the very levels the criterion's arithmetic gives each pair,
    in both views and on any day."""
    from matching.criteria import availability, hours, industry, requirements

    rng = np.random.default_rng(seed)
    p = rng.integers(0, len(world.participants), 100)
    o = rng.integers(0, len(world.openings), 100)
    for view, day in ((world, AS_OF.toordinal() + shift), (world.employer_view, AS_OF.toordinal() - shift), (world, AS_OF.toordinal())):
        pairs = Pairs.build(view, p, o, day)
        people, jobs = view.participants, view.openings
        assert industry._level(pairs).tolist() == industry._level_of(people.industry_mask[p], jobs.section_index[o]).tolist()
        for c, field in ((requirements.norwegian, "norwegian_rank"), (requirements.education, "education_rank")):
            gap = getattr(people, field)[p] - getattr(jobs, field)[o]
            assert c.level(pairs).tolist() == requirements.GAP.bin(gap).tolist(), c.name
        assert hours.fit.level(pairs).tolist() == hours._fit_level(*hours._hours(pairs)).tolist()
        assert availability.timing.level(pairs).tolist() == availability._level_of(*availability._dates(pairs)[1:]).tolist()
