"""Invariants of the matching engine, for any world and any model of the shipped family."""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import topk
from matching.engine import MatchEngine
from matching.taxonomy.places import haversine_km
from matching.world import participants_from_records
from tests.synthetic import AS_OF, NEEDS, build_world, monotone_models, opening, participant, worlds

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _violations(world, pid: str, oid: str) -> list[str]:
    """Re-check hard constraints from the raw records, independently of candidates.py."""
    p = world.participants.frame.set_index("participant_id").loc[pid]
    o = world.openings.frame.set_index("opening_id").loc[oid]
    out = []
    if o["status"] != "open" or (o["deadline"] is not None and o["deadline"] < AS_OF):
        out.append("open")
    if p["goal"] != "either" and p["goal"] != o["kind"]:
        out.append("kind")
    if float(haversine_km(p["lat"], p["lon"], o["lat"], o["lon"])) > p["max_commute_km"]:
        out.append("commute")
    if not set(o["required_licences"]) <= set(p["driving_licences"]):
        out.append("licence")
    return out


@FAST
@given(worlds(), monotone_models())
def test_no_listed_match_breaks_a_hard_constraint(world, model):
    engine = MatchEngine(world, model, AS_OF)
    for items in engine.recommend(np.arange(len(world.participants)), k=50).values():
        for s in items:
            assert _violations(world, s.participant_id, s.opening_id) == []
    # Employer-facing lists place everyone at the centre of their home area (issue 9): the
    # constraints hold there, for the location that view has.
    for items in engine.candidates(np.arange(len(world.openings)), k=50).values():
        for s in items:
            assert _violations(world.employer_view, s.participant_id, s.opening_id) == []


@FAST
@given(worlds(), monotone_models())
def test_eligible_pairs_are_exactly_the_listed_ones(world, model):
    """With K large enough, every pair that passes the constraints is listed (nothing lost)."""
    engine = MatchEngine(world, model, AS_OF)
    listed = {
        (s.participant_id, s.opening_id) for items in engine.recommend(np.arange(len(world.participants)), k=10_000).values() for s in items
    }
    for pid in world.participants.ids:
        for oid in world.openings.ids:
            assert ((pid, oid) in listed) == (_violations(world, pid, oid) == [])


@FAST
@given(st.data(), monotone_models())
def test_adding_a_covered_need_never_lowers_the_score(data, model):
    p = data.draw(participant("P-001"))
    o = data.draw(opening("O-001"))
    offered = sorted(set(o["adaptations_offered"]) | set(o["employer_adaptations"]))
    extra = [n for n in offered if n not in p["adaptation_needs"]]
    if not extra:
        o["adaptations_offered"] = sorted(set(o["adaptations_offered"]) | {NEEDS[0]})
        extra = [NEEDS[0]] if NEEDS[0] not in p["adaptation_needs"] else []
    if not extra:
        return
    need = data.draw(st.sampled_from(extra))
    p2 = copy.deepcopy(p)
    p2["adaptation_needs"] = sorted(set(p["adaptation_needs"]) | {need})
    world = build_world([p, p2 | {"participant_id": "P-002"}], [o])
    engine = MatchEngine(world, model, AS_OF)
    before = engine.explain_pair(0, 0)["score"]
    after = engine.explain_pair(1, 0)["score"]
    assert after >= before


@FAST
@given(worlds(), monotone_models())
def test_a_pair_scores_the_same_from_both_sides(world, model):
    """Within one view, both directions agree on every pair. An opening's candidates are
    employer-facing, so they agree with participant lists ranked on the employer view."""
    engine = MatchEngine(world, model, AS_OF)
    forward = {
        (s.participant_id, s.opening_id): s.score
        for items in engine.employer.recommend(np.arange(len(world.participants)), k=10_000).values()
        for s in items
    }
    backward = {
        (s.participant_id, s.opening_id): s.score
        for items in engine.candidates(np.arange(len(world.openings)), k=10_000).values()
        for s in items
    }
    assert forward.keys() == backward.keys()
    for key, score in forward.items():
        assert backward[key] == score
        p, o = world.participants.index[key[0]], world.openings.index[key[1]]
        assert engine.employer.explain_pair(p, o)["score"] == score


@FAST
@given(worlds(), monotone_models())
def test_contributions_sum_exactly_to_the_raw_score(world, model):
    engine = MatchEngine(world, model, AS_OF)
    for items in engine.recommend(np.arange(len(world.participants)), k=10_000).values():
        for s in items:
            total = s.explanation.intercept + sum(f.contribution for f in s.explanation.features.values())
            assert abs(total - s.raw_score) < 1e-9
            assert abs(1 / (1 + np.exp(-s.raw_score)) - s.score) < 1e-12
            assert 0.0 <= s.score <= 1.0


@FAST
@given(worlds(), monotone_models())
def test_ranking_is_deterministic_and_sorted(world, model):
    a = MatchEngine(world, model, AS_OF).recommend(np.arange(len(world.participants)), k=5)
    b = MatchEngine(world, model, AS_OF).recommend(np.arange(len(world.participants))[::-1], k=5)
    assert {p: [(s.opening_id, s.score) for s in v] for p, v in a.items()} == {
        p: [(s.opening_id, s.score) for s in v] for p, v in b.items()
    }
    for items in a.values():
        scores = topk.shown(np.array([s.score for s in items])).tolist()  # ranked by the score as shown
        assert scores == sorted(scores, reverse=True)
        assert len(items) <= 5


@FAST
@given(st.data(), monotone_models())
def test_a_participants_list_does_not_depend_on_who_else_is_in_the_world(data, model):
    """A posted profile ranks exactly like the same participant stored among others."""
    world = data.draw(worlds(max_participants=4))
    alone = world.with_participants(participants_from_records([world.participants.frame.iloc[0].to_dict()]))
    full = MatchEngine(world, model, AS_OF).recommend([0], k=20).get(0, [])
    single = MatchEngine(alone, model, AS_OF).recommend([0], k=20).get(0, [])
    assert [(s.opening_id, s.score) for s in full] == [(s.opening_id, s.score) for s in single]
