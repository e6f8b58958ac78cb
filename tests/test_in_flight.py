"""Issue 14: chains in flight (suggested / contacted / interview, no end yet) speak for places.
The store counts their expected starts per opening from the history before the run date; the
priced allocation splits free places less them."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from sqlalchemy import func, select

from matching import allocation
from matching.store import outcomes
from matching.store import tables as t
from matching.store.snapshot import load_world
from tests.conftest import TODAY, _copy_db, db_engine, settings_for
from tests.test_allocation import _batch_parts, _hard_constraints_pass, _run_inputs, room_of

MIDNIGHT = dt.datetime.combine(TODAY, dt.time())


@pytest.fixture
def own(base_db, model_dir, tmp_path):
    """Settings on a copy of the loaded data of this test's own (it records events)."""
    _copy_db(base_db, tmp_path / "own.db")
    return settings_for(tmp_path / "own.db", model_dir)


def _quiet_opening_and_people(conn, n: int) -> tuple[str, list[str]]:
    """An opening with no event in the last 60 days, and `n` participants with no event on it."""
    o = t.outcomes
    busy = select(o.c.opening_id).where(o.c.occurred_at >= MIDNIGHT - dt.timedelta(days=60))
    oid = (
        conn.execute(select(t.openings.c.opening_id).where(t.openings.c.opening_id.not_in(busy)).order_by(t.openings.c.opening_id))
        .scalars()
        .first()
    )
    seen = select(o.c.participant_id).where(o.c.opening_id == oid)
    people = list(
        conn.execute(
            select(t.participants.c.participant_id)
            .where(t.participants.c.participant_id.not_in(seen))
            .order_by(t.participants.c.participant_id)
            .limit(n)
        ).scalars()
    )
    return oid, people


def _add(conn, pid: str, oid: str, event: str, at: dt.datetime) -> None:
    outcomes.record(
        conn,
        {
            "event_id": f"test-{pid}-{oid}-{event}-{at:%Y%m%d%H}",
            "participant_id": pid,
            "opening_id": oid,
            "event": event,
            "reason": None,
            "occurred_at": at,
            "actor": "test",
        },
    )


def test_open_chains_count_by_stage_until_idle_or_ended_before_the_run_date_only(own):
    day = dt.timedelta(days=1)
    with db_engine(own).connect() as conn:
        oid, (a, b, c, d, e, f) = _quiet_opening_and_people(conn, 6)
        assert oid not in outcomes.in_flight(conn, TODAY)
        _add(conn, a, oid, "suggested", MIDNIGHT - 10 * day)
        _add(conn, a, oid, "contacted", MIDNIGHT - 8 * day)
        _add(conn, a, oid, "interview", MIDNIGHT - 3 * day)  # in flight: interview
        _add(conn, b, oid, "suggested", MIDNIGHT - 20 * day)  # idle past the suggestion's 14 days: dead
        _add(conn, c, oid, "contacted", MIDNIGHT - 5 * day)
        _add(conn, c, oid, "declined_by_employer", MIDNIGHT - 2 * day + dt.timedelta(hours=12))  # ended
        _add(conn, d, oid, "interview", MIDNIGHT + dt.timedelta(hours=10))  # on the run date: not before it
        _add(conn, e, oid, "contacted", MIDNIGHT - 15 * day)  # in flight: contacted, within 21 days
        _add(conn, f, oid, "interview", MIDNIGHT - 31 * day)  # idle past the interview's 30 days: dead
        rates = outcomes.stage_start_rates(conn, TODAY)
        assert 0 < rates["suggested"] < rates["contacted"] < rates["interview"] < 1  # the later the stage, the likelier a start
        assert outcomes.in_flight(conn, TODAY)[oid] == pytest.approx(rates["interview"] + rates["contacted"])
        # two days earlier c's decline had not happened yet (and a's interview had): c counts as
        # contacted; f's interview was 29 days old then, within its window
        early = TODAY - 2 * day
        r_early = outcomes.stage_start_rates(conn, early)
        assert outcomes.in_flight(conn, early)[oid] == pytest.approx(2 * r_early["interview"] + 2 * r_early["contacted"])
        # what happens on or after the run date changes neither the rates nor the chains counted
        before = (outcomes.stage_start_rates(conn, TODAY), outcomes.in_flight(conn, TODAY))
        _add(conn, a, oid, "hired", MIDNIGHT + dt.timedelta(hours=9))
        _add(conn, b, oid, "contacted", MIDNIGHT + 2 * day)
        assert (outcomes.stage_start_rates(conn, TODAY), outcomes.in_flight(conn, TODAY)) == before
        # three days on: a was hired (no longer in flight); d's interview and b's contact count, e's contact is 18 days old
        later = TODAY + 3 * day
        r_later = outcomes.stage_start_rates(conn, later)
        assert outcomes.in_flight(conn, later)[oid] == pytest.approx(r_later["interview"] + 2 * r_later["contacted"])
        assert outcomes.in_flight(conn, TODAY + 10 * day)[oid] == pytest.approx(  # e idle past 21 days
            outcomes.stage_start_rates(conn, TODAY + 10 * day)["interview"]
            + outcomes.stage_start_rates(conn, TODAY + 10 * day)["contacted"]
        )


def test_stage_rates_are_the_histories_share_of_starts(own):
    with db_engine(own).connect() as conn:
        rows = conn.execute(select(t.outcomes.c.participant_id, t.outcomes.c.opening_id, t.outcomes.c.event)).all()
        assert conn.execute(select(func.max(t.outcomes.c.occurred_at))).scalar_one() < MIDNIGHT
        rates = outcomes.stage_start_rates(conn, TODAY + dt.timedelta(days=40))  # every chain settled by then
    pairs: dict[tuple[str, str], set[str]] = {}
    for p, o, ev in rows:
        pairs.setdefault((p, o), set()).add(ev)
    reached = {"suggested": {"suggested", "contacted", "interview"}, "contacted": {"contacted", "interview"}, "interview": {"interview"}}
    for stage, events in reached.items():
        at = [evs for evs in pairs.values() if evs & events]
        assert rates[stage] == pytest.approx(sum(bool(evs & {"hired", "trial_started"}) for evs in at) / len(at))


def _heads(rows, oid: str, head: int) -> int:
    return sum(oid in json.loads(o)[:head] for _, o, _ in rows)


def test_an_opening_with_open_interviews_gets_fewer_recommended_heads(published):
    from matching.batch import recommend_now

    settings = published.settings
    world, personal, _, taken, free = _run_inputs(published)
    parts = _batch_parts(world, personal)
    rows, figures = recommend_now(world, parts, taken, settings, TODAY)
    assert figures["in_flight"] == {"expected_starts": 0.0, "openings": 0, "places_spoken_for": 0.0}
    head = settings.alloc_head
    # the opening with a free place and no congestion priced (in no list crowded) in the most recommended-now heads
    crowded = {o for _, _, notes in rows for o, note in json.loads(notes).items() if note[4]}
    counts = {o: _heads(rows, o, head) for o in world.openings.ids if free[o] >= 1 and o not in crowded}
    oid = max(sorted(counts), key=lambda o: counts[o])
    assert counts[oid] >= 2
    with db_engine(settings).connect() as conn:
        rates = outcomes.stage_start_rates(conn, TODAY)
    spoken = {oid: 2 * rates["interview"]}  # two open interviews on it
    rows2, figures2 = recommend_now(world, parts, taken, settings, TODAY, in_flight=spoken)
    assert _heads(rows2, oid, head) < counts[oid]
    assert figures2["in_flight"]["openings"] == 1 and figures2["in_flight"]["expected_starts"] == pytest.approx(spoken[oid], abs=1e-3)
    assert figures2["before"] == figures["before"]  # what people read (free places, exposure) is unchanged
    rec = {p: json.loads(o) for p, o, _ in rows2}
    _hard_constraints_pass(world, rec)
    held = room_of(settings, free[oid], spoken[oid]) <= settings.alloc_hold_at  # no room now: in no recommended-now list at all
    if held:
        assert not any(oid in o for o in rec.values())
    # the lists stay full-length where they were, but for a list that held it and had nothing else with room
    for (_, o, _), (_, o2, _) in zip(rows, rows2):
        before, after = json.loads(o), json.loads(o2)
        assert len(after) == len(before) or (held and len(after) == len(before) - 1 and oid in before)
    # nothing in flight anywhere: the same lists as without the argument
    assert recommend_now(world, parts, taken, settings, TODAY, in_flight={})[0] == rows


def test_not_spoken_for_is_free_places_less_expected_starts_never_below_zero():
    free = np.array([0, 1, 2, 3])
    assert allocation.not_spoken_for(free, None).tolist() == [0, 1, 2, 3]
    assert allocation.not_spoken_for(free, np.array([0.5, 0.3, 2.5, 0.0])).tolist() == pytest.approx([0.0, 0.7, 0.0, 3.0])
    eligible = np.array([True, True, False, True])
    assert allocation.in_flight_figures(free, np.array([0.5, 0.3, 2.5, 0.0]), eligible) == {
        "expected_starts": 0.8,
        "openings": 2,
        "places_spoken_for": 0.3,
    }


def test_the_published_run_reports_the_chains_in_flight(published):
    with db_engine(published.settings).connect() as conn:
        world = load_world(conn)
        spoken = outcomes.in_flight(conn, TODAY)
        row = conn.execute(select(t.runs.c.congestion).where(t.runs.c.run_id == published.second_run)).scalar_one()
    figures = json.loads(row) if isinstance(row, str) else row
    eligible = world.openings.is_open & (world.openings.deadline_ord >= TODAY.toordinal())
    expected = sum(v for o, v in spoken.items() if eligible[world.openings.index[o]])
    assert figures["in_flight"]["expected_starts"] == pytest.approx(expected, abs=1e-3)
