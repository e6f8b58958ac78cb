"""What a liaison officer can read must not depend on what they may not know (issue 9).

An opening's candidates are employer-facing: ranked and explained on `World.employer_view`.
These properties change the hidden thing and check that nothing employer-facing moves:

- a non-consenting participant's adaptation needs (none, covered, not covered, any codes);
- an opening's offered adaptations, for every non-consenting candidate;
- where in their home area a participant lives (the hard constraints aside).
"""

from __future__ import annotations

import copy
import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.batch import top_candidates
from matching.engine import MatchEngine
from matching.explain import is_weak, list_reasons, reasons
from matching.taxonomy import areas, places
from matching.topk import Ranked, tied
from tests.synthetic import AS_OF, NEEDS, build_world, monotone_models, opening, participant, subset

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _records(world) -> tuple[list[dict], list[dict]]:
    ps = [dict(r) for r in world.participants.frame.to_dict("records")]
    os_ = [dict(r) for r in world.openings.frame.drop(columns=["adaptations_all"]).to_dict("records")]
    return ps, os_


def liaison_view(world, model, only: set[str] | None = None) -> dict[str, list]:
    """Every opening's whole candidate list as a liaison reads it (ids, ranks, scores, tie
    marks, weak marks, each pair's reasons and the list's headline reasons in both languages),
    optionally only the entries of some participants. Headlines and tie marks are relative to
    the entries ranked above, so with `only` (others' entries may legitimately change) they
    are left out of the comparison."""
    engine = MatchEngine(world, model, AS_OF)
    out = {}
    lists = engine.candidates(np.arange(len(world.openings)), k=10_000)
    elsewhere = _matched_elsewhere(world, lists)
    for o, items in lists.items():
        exps = [s.explanation for s in items]
        heads = {lang: list_reasons(exps, lang) for lang in ("nb", "en")}
        ties = tied([s.score for s in items])
        out[str(world.openings.ids[o])] = [
            (s.participant_id, s.score, is_weak(s.explanation), reasons(s.explanation, "nb"), reasons(s.explanation, "en"))
            + (() if only is not None else (ties[i], heads["nb"][i], heads["en"][i], elsewhere(s.participant_id, o)))
            for i, s in enumerate(items)
            if only is None or s.participant_id in only
        ]
    return out


def _matched_elsewhere(world, lists):
    """The candidates' "strongly matched elsewhere" mark (issue 14) as the batch derives it
    (`batch.top_candidates`) from these candidate lists; relative to other participants' ranks,
    so compared only with whole lists, like tie marks."""
    group = np.array([o for o, items in lists.items() for _ in items], dtype=np.int64)
    other = np.array([world.participants.index[s.participant_id] for items in lists.values() for s in items], dtype=np.int64)
    ranked = Ranked(group, other, np.zeros(len(group)), np.zeros((len(group), 0), dtype=np.uint8))
    placed = {p: json.loads(o) for p, o in top_candidates(ranked, world.openings.ids, world.participants.ids)}
    return lambda pid, o: any(x != str(world.openings.ids[o]) for x in placed.get(pid, ()))


@st.composite
def mixed_worlds(draw):
    """Small worlds where at least one participant did not consent to share needs."""
    n_p, n_o = draw(st.integers(1, 5)), draw(st.integers(1, 8))
    ps = [draw(participant(f"P-{i:03d}")) for i in range(n_p)]
    ps[0]["shares_needs_with_employers"] = False
    os_ = [draw(opening(f"O-{i:03d}")) for i in range(n_o)]
    return ps, os_


@FAST
@given(mixed_worlds(), monotone_models(), st.data())
def test_nothing_a_liaison_sees_depends_on_a_non_consenting_participants_needs(world_records, model, data):
    ps, os_ = world_records
    before = liaison_view(build_world(ps, os_), model)
    changed = copy.deepcopy(ps)
    for p in changed:
        if not p["shares_needs_with_employers"]:
            p["adaptation_needs"] = sorted(data.draw(subset(NEEDS, 6)))
    assert liaison_view(build_world(changed, os_), model) == before


@FAST
@given(mixed_worlds(), monotone_models(), st.data())
def test_nor_on_what_openings_offer_for_those_who_did_not_consent(world_records, model, data):
    """Scores, reasons and their relative order among non-consenting candidates stay put
    (consenting candidates may move: their needs are weighed, as they agreed)."""
    ps, os_ = world_records
    hidden = {p["participant_id"] for p in ps if not p["shares_needs_with_employers"]}
    before = liaison_view(build_world(ps, os_), model, only=hidden)
    changed = copy.deepcopy(os_)
    for o in changed:
        o["adaptations_offered"] = sorted(data.draw(subset(NEEDS, 6)))
        o["employer_adaptations"] = sorted(data.draw(subset(NEEDS, 6)))
    assert liaison_view(build_world(ps, changed), model, only=hidden) == before


@FAST
@given(mixed_worlds(), monotone_models())
def test_having_needs_is_not_visible_either(world_records, model):
    """No needs, every need covered and nothing covered read the same to a liaison when the
    participant did not consent: the adaptation criterion is simply not assessed."""
    ps, os_ = world_records
    views = []
    for needs in ([], sorted(NEEDS[:3])):
        variant = copy.deepcopy(ps)
        variant[0]["adaptation_needs"] = needs
        for covered in (False, True):
            offers = copy.deepcopy(os_)
            for o in offers:
                o["adaptations_offered"] = sorted(needs) if covered else []
                o["employer_adaptations"] = []
            views.append(liaison_view(build_world(variant, offers), model, only={"P-000"}))
    assert all(v == views[0] for v in views)


def _same_area_codes() -> list[tuple[str, str]]:
    """Pairs of residential postal codes in one home area, around Trondheim."""
    t = areas.table()
    near = t[t["residential"] & t.index.str.startswith("70")]
    pairs = []
    for _, group in near.groupby("area"):
        codes = sorted(group.index)
        if len(codes) >= 2:
            pairs.append((codes[0], codes[-1]))
    return pairs


SAME_AREA = _same_area_codes()


@FAST
@given(mixed_worlds(), monotone_models(), st.sampled_from(SAME_AREA))
def test_where_in_the_home_area_someone_lives_changes_nothing_a_liaison_reads(world_records, model, codes):
    """Moving a participant within their home area changes nothing a liaison reads: not who
    is listed, not a rank, score or text."""
    ps, os_ = world_records
    worlds = []
    for code in codes:
        variant = copy.deepcopy(ps)
        place = places.lookup(code)
        variant[0].update(postal_code=code, lat=place.lat, lon=place.lon)
        worlds.append(liaison_view(build_world(variant, os_), model, only={"P-000"}))
    assert worlds[0] == worlds[1]


def test_same_area_pairs_exist_and_areas_are_large_enough():
    assert len(SAME_AREA) >= 5
    t = areas.table()
    sizes = t[t["residential"]].groupby("area").size()
    assert sizes.min() >= areas.MIN_CODES
    # every postal code with coordinates belongs to an area with a centre
    assert (t["area"] >= 0).all() and t["area_lat"].notna().all()


def test_a_postal_code_the_reference_no_longer_knows_joins_the_nearest_area():
    """Fail closed: a discontinued code is placed in an area like any other, never alone."""
    t = areas.table()
    known = t[t["residential"]].index[0]
    lat, lon, radius = areas.locate(["0000", known], [t.at[known, "lat"]] * 2, [t.at[known, "lon"]] * 2)
    assert lat[0] == lat[1] and lon[0] == lon[1] and radius[0] == radius[1] > 0
