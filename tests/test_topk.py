"""The ranking shortcuts of the batch and the live path are exact: the one-subject partition,
the bucket prefilter, chunked scoring and the view-independent criteria evaluated once for
both sides give the very lists a full sort of fully scored pairs gives, ties included."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import candidates, topk
from matching import engine as engine_module
from matching.engine import MatchEngine
from matching.pairs import Pairs
from matching.scoring import ScoringModel
from tests.synthetic import AS_OF, monotone_models, worlds

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WORLDS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _naive(group, score, tie, k):
    order = sorted(range(len(group)), key=lambda i: (group[i], -score[i], tie[i]))
    out, seen = [], {}
    for i in order:
        seen[group[i]] = seen.get(group[i], 0) + 1
        if seen[group[i]] <= k:
            out.append(i)
    return out


def _arrays(seed: int, n: int, n_groups: int, n_values: int):
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n)
    score = rng.integers(0, n_values, n) / n_values  # few distinct values: many ties
    tie = rng.permutation(n)
    return group, score, tie


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.integers(1, 200), st.integers(1, 60), st.integers(1, 80))
def test_top_k_equals_a_full_sort(seed, n, n_groups, n_values, k):
    group, score, tie = _arrays(seed, n, n_groups, n_values)
    assert topk.top_k(group, score, tie, k).tolist() == _naive(group, score, tie, k)


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.integers(1, 200), st.integers(1, 1000), st.integers(1, 50), st.booleans())
def test_the_one_key_sort_orders_as_lexsort(seed, n, n_groups, n_values, n_ties, shown):
    """`topk._rank_order` packs (group, shown score, tie) into one int64 and sorts it once:
    the order is lexsort's, equal keys included (ties repeat here), for shown scores and, by
    falling back, for any other."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n)
    raw = rng.integers(0, n_values + 1, n) / n_values
    score = topk.shown(raw) if shown else raw - 0.5
    tie = rng.integers(0, n_ties, n).astype(np.int32)
    assert np.array_equal(topk._rank_order(group, score, tie), np.lexsort((tie, -score, group)))


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, topk.PREFILTER_MIN + 5000), st.integers(1, 60), st.integers(1, 80))
def test_one_subject_top_k_equals_a_full_sort(seed, n, n_values, k):
    """A live request ranks one subject: the partition shortcut keeps every tie at the cut."""
    group, score, tie = _arrays(seed, n, 1, n_values)
    group += 7
    assert topk.top_k(group, score, tie, k).tolist() == np.lexsort((tie, -score))[:k].tolist()


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 400), st.integers(2, 500), st.integers(1, 60))
def test_prefiltered_top_k_on_large_inputs_equals_a_full_sort(seed, n_groups, n_values, k):
    group, score, tie = _arrays(seed, topk.PREFILTER_MIN + 5000, n_groups, n_values)
    expected = np.lexsort((tie, -score, group))
    g = group[expected]
    first = np.r_[True, g[1:] != g[:-1]]
    pos = np.arange(len(g)) - np.maximum.accumulate(np.where(first, np.arange(len(g)), 0))
    assert topk.top_k(group, score, tie, k).tolist() == expected[pos < k].tolist()


@FAST
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 3000),
    st.integers(1, 200),
    st.integers(1, 60),
    st.integers(1, 80),
    st.floats(0.0, 2.0),
    st.sampled_from([1, 2, 16, 256]),
    st.booleans(),
)
def test_pairs_that_may_not_reach_their_list_are_never_listed(seed, n, n_groups, n_values, k, spread, n_buckets, edges):
    """The batch skips its costly criteria for pairs `may_reach` rules out, knowing only
    bounds on their raw score (partial + lo ≤ raw ≤ partial + hi): none of them is in the top
    k, and the top k of the rest is the top k of all, ties at the cut included — also when
    scores sit on a shown decimal's rounding edge (`edges`: raw scores whose sigmoid is a
    hair either side of, or at, half a shown unit)."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n)
    if edges:
        half = (rng.integers(1, 1000, n) - 0.5) / 1000 + rng.choice([-1e-13, 0.0, 1e-13], n)
        raw = ScoringModel.logit(half)
    else:
        raw = rng.integers(-4 * n_values, 2 * n_values, n) / n_values  # few distinct values: many ties
    tie = rng.permutation(n)
    shift = float(rng.uniform(-1, 1))
    partial = raw - rng.random(n) * spread - shift  # raw in [partial + shift, partial + shift + spread]
    lo, hi = shift, shift + spread
    keep = np.flatnonzero(topk.may_reach(group, partial, lo, hi, k, ScoringModel.sigmoid, ScoringModel.logit, n_buckets))
    score = topk.shown(ScoringModel.sigmoid(raw))
    full = topk.top_k(group, score, tie, k)
    assert set(full.tolist()) <= set(keep.tolist())
    assert keep[topk.top_k(group[keep], score[keep], tie[keep], k)].tolist() == full.tolist()


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.integers(1, 200), st.integers(1, 80), st.sampled_from([1, 2, 16, 256]))
def test_kth_floor_is_under_each_groups_kth_largest_value(seed, n, n_groups, k, n_buckets):
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n) * 3
    value = rng.normal(0, 3, n).round(rng.integers(0, 4))
    compact, floor = topk.kth_floor(group, value, k, n_buckets)
    ids = np.unique(group)
    assert compact.tolist() == np.searchsorted(ids, group).tolist()
    for g, f in zip(ids, floor):
        mine = np.sort(value[group == g])[::-1]
        assert (f == -np.inf) == (len(mine) < k)
        assert len(mine) < k or f <= mine[k - 1]


def test_least_showing_is_the_edge_of_a_shown_score():
    shown = np.array([0.0, 0.001, 0.002, 0.5, 0.999, 1.0])
    edge = topk.least_showing(shown)
    assert edge[0] == -np.inf
    for s, p in zip(shown[1:], edge[1:]):
        assert topk.shown(np.array([p]))[0] < s <= topk.shown(np.array([p + 2e-12]))[0]


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(0, 400), st.integers(0, 400), st.integers(1, 1000))
def test_the_union_of_both_sides_holds_every_pair_once(seed, nw, ne, span):
    """`engine._union`: each side's keys (strictly increasing, as blocking lists them) map to
    rows of one union that holds every key of either side exactly once."""
    rng = np.random.default_rng(seed)
    kw = np.unique(rng.integers(0, span, nw))
    ke = np.unique(
        np.r_[rng.choice(kw, min(len(kw), ne // 2), replace=False) if len(kw) else [], rng.integers(0, span, ne - ne // 2)]
    ).astype(np.int64)
    extra, ie = engine_module._union(kw, ke)
    union = np.r_[kw, ke[extra]]
    assert sorted(union.tolist()) == sorted(set(kw.tolist()) | set(ke.tolist()))
    assert union[ie].tolist() == ke.tolist()


@WORLDS
@given(worlds(), monotone_models(), st.integers(0, 2**32 - 1))
def test_both_views_levels_of_pairs_in_any_order(world, model, seed):
    """Without k, `_levels_both_views` gives each side's pairs the levels scoring that side
    on its own gives, whether the pairs come in blocking's order (one linear merge of the two
    sides) or in any other (a sort)."""
    engine = MatchEngine(world, model, AS_OF)
    p_idx = np.arange(len(world.participants))
    pw = candidates.for_participants(world, p_idx, AS_OF)
    pe = candidates.for_participants(world.employer_view, p_idx, AS_OF)
    rng = np.random.default_rng(seed)
    for w_order, e_order in ((np.arange(len(pw)), np.arange(len(pe))), (rng.permutation(len(pw)), rng.permutation(len(pe)))):
        sw, se = pw.subset(w_order), pe.subset(e_order)
        _, _, lw, le = engine._levels_both_views(sw, se)
        assert lw.tolist() == engine.score_pairs(sw)[2].levels.tolist()
        assert le.tolist() == engine.employer.score_pairs(se)[2].levels.tolist()


def test_empty_inputs():
    z = np.zeros(0, dtype=np.int64)
    assert len(topk.top_k(z, np.zeros(0), z, 5)) == 0


@WORLDS
@given(worlds(), monotone_models(), st.integers(1, 12))
def test_batch_lists_equal_full_evaluation(world, model, k):
    engine = MatchEngine(world, model, AS_OF)
    p_idx = np.arange(len(world.participants))
    p2o, o2p, n_scored = engine.both_directions(p_idx, k)
    pairs = candidates.for_participants(world, p_idx, AS_OF)
    score = engine.score_pairs(pairs)[0]
    assert n_scored == len(pairs)
    # The opening side is employer-facing: the same pairs, scored on the employer view.
    epairs = candidates.for_participants(world.employer_view, p_idx, AS_OF)
    escore = engine.employer.score_pairs(epairs)[0]
    # The documented order: the score as shown, then the other side's tie_rank.
    ps = topk.top_k(pairs.p, topk.shown(score), world.openings.tie_rank[pairs.o], k)
    os_ = topk.top_k(epairs.o, topk.shown(escore), world.participants.tie_rank[epairs.p], k)
    assert p2o.group.tolist() == pairs.p[ps].tolist() and p2o.other.tolist() == pairs.o[ps].tolist()
    assert o2p.group.tolist() == epairs.o[os_].tolist() and o2p.other.tolist() == epairs.p[os_].tolist()
    assert p2o.score.tolist() == score[ps].tolist() and o2p.score.tolist() == escore[os_].tolist()
    full = engine.score_pairs(pairs)[2].levels
    assert p2o.levels.tolist() == full[ps].tolist()
    assert o2p.levels.tolist() == engine.employer.score_pairs(epairs)[2].levels[os_].tolist()


@WORLDS
@given(worlds(), monotone_models(), st.integers(1, 12), st.integers(1, 40), st.integers(1, 4))
def test_chunked_scoring_gives_the_same_lists(world, model, k, max_pairs, batch):
    engine = MatchEngine(world, model, AS_OF)
    p_idx = np.arange(len(world.participants))
    p2o, o2p, n = engine.both_directions(p_idx, k)
    c_p2o, c_o2p, c_n = engine.both_directions(p_idx, k, max_pairs=max_pairs, candidate_batch=batch)
    assert c_n == n
    assert c_p2o.group.tolist() == p2o.group.tolist() and c_p2o.other.tolist() == p2o.other.tolist()
    assert c_p2o.score.tolist() == p2o.score.tolist() and c_p2o.levels.tolist() == p2o.levels.tolist()
    merged = topk.best(c_o2p, world.participants.tie_rank, k)
    assert merged.group.tolist() == o2p.group.tolist() and merged.other.tolist() == o2p.other.tolist()
    assert merged.score.tolist() == o2p.score.tolist() and merged.levels.tolist() == o2p.levels.tolist()


@WORLDS
@given(worlds())
def test_only_the_declared_criteria_depend_on_the_view(world):
    """The batch evaluates every criterion outside VIEW_DEPENDENT once per pair for both the
    World and its employer view: that is only right while they give the same levels."""
    from matching.criteria import ALL

    p_idx = np.arange(len(world.participants))
    pairs = candidates.for_participants(world, p_idx, AS_OF)
    view = world.employer_view
    same = Pairs.build(view, pairs.p, pairs.o, AS_OF.toordinal())
    for c in ALL:
        if c.name not in engine_module.VIEW_DEPENDENT:
            assert c.level(pairs).tolist() == c.level(same).tolist(), c.name


@WORLDS
@given(worlds(), st.integers(0, 2**32 - 1))
def test_criteria_declared_opening_only_read_only_the_opening(world, seed):
    """The batch computes an `opening_only` criterion once per opening (with participant row 0)
    and gathers it for every pair: only right while no participant changes its level."""
    from matching.criteria import ALL, BY_NAME

    assert {c.name for c in ALL if c.opening_only} == {"inclusion", "responsiveness", "deadline", "freshness"}
    rng = np.random.default_rng(seed)
    o = rng.integers(0, len(world.openings), 200)
    for view in (world, world.employer_view):
        anyone = Pairs.build(view, rng.integers(0, len(world.participants), len(o)), o, AS_OF.toordinal())
        first = Pairs.build(view, np.zeros(len(o), dtype=np.int64), o, AS_OF.toordinal())
        for c in BY_NAME.values():
            if c.opening_only:
                assert c.level(anyone).tolist() == c.level(first).tolist(), c.name


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 30), st.integers(1, 8), st.integers(0, 300))
def test_opening_side_merged_as_shards_come_equals_merging_everything(seed, n_shards, n_values, k, merge_at):
    """The refresh drops a shard's opening-side entries that are below their opening's k-th
    best so far (batch._OpeningSide): the lists are those of merging every shard at the end."""
    from matching.batch import _OpeningSide

    rng = np.random.default_rng(seed)
    n_openings, n_participants = 7, 60
    tie_rank = rng.permutation(n_participants)
    owner = rng.integers(0, n_shards, n_participants)  # a participant is in one shard only
    parts = []
    for s in range(n_shards):
        mine = np.flatnonzero(owner == s)
        o, p = np.meshgrid(np.arange(n_openings), mine, indexing="ij")
        pick = rng.random(o.size) < 0.6
        o, p = o.ravel()[pick], p.ravel()[pick]
        score = rng.integers(0, n_values, len(o)) / n_values + rng.random(len(o)) * 1e-5  # ties once shown
        part = topk.best(topk.Ranked(o, p, score, rng.integers(0, 3, (len(o), 2)).astype(np.uint8)), tie_rank, k)
        parts.append(part)
    side = _OpeningSide(tie_rank, n_openings, k, merge_at=merge_at)
    for part in parts:
        side.add(part)
    got = side.result(2)
    want = topk.best(topk.Ranked.concat(parts), tie_rank, k)
    assert got.group.tolist() == want.group.tolist() and got.other.tolist() == want.other.tolist()
    assert got.score.tolist() == want.score.tolist() and got.levels.tolist() == want.levels.tolist()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), monotone_models())
def test_opening_levels_are_kept_for_the_latest_day_only(world, model):
    """The openings' `opening_only` levels live as long as the snapshot (the API's, for days):
    a new day replaces them, so days never pile up, and each day's are that day's."""
    import datetime as dt

    j = next(i for i, c in enumerate(MatchEngine(world, model, AS_OF).criteria) if c.opening_only)
    first = MatchEngine(world, model, AS_OF)._opening_levels(j).copy()
    later = AS_OF + dt.timedelta(days=40)
    again = MatchEngine(world, model, later)._opening_levels(j)
    day, held = world.openings.__dict__["_opening_levels"]
    assert day == later.toordinal() and list(held) == [MatchEngine(world, model, later).criteria[j].name]
    assert np.array_equal(MatchEngine(world, model, AS_OF)._opening_levels(j), first)
    assert world.openings.__dict__["_opening_levels"][0] == AS_OF.toordinal()
    assert again.shape == first.shape
