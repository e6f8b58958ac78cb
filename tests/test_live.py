"""The live path: the per-snapshot spatial index and the data-versioned snapshot cache.

The blocking index (built once per snapshot, used by the batch and the live path alike) must
give exactly the pairs that pass every hard constraint among all pairs (same pairs, same
ranked lists); the snapshot must follow the database's data version — a load from another
process or a hand-written UPDATE is seen by the next request, nothing else forces a reload.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api.app import create_app
from matching import candidates, runtime
from matching import engine as engine_module
from matching.engine import MatchEngine
from matching.pairs import Pairs
from matching.store import tables as t
from matching.store import versioning
from matching.world import World
from tests.conftest import ROOT, TODAY, _copy_db, db_engine, settings_for
from tests.synthetic import AS_OF, build_world, monotone_models, opening, participant

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pair_set(pairs) -> set[tuple[int, int]]:
    return set(zip(pairs.p.tolist(), pairs.o.tolist()))


def _every_pair(world, p_idx, o_idx, as_of, kind: str = "any") -> Pairs:
    """The reference blocking: every pair of these rows, kept if it passes every constraint."""
    p_idx, o_idx = np.asarray(p_idx, dtype=np.int64), np.asarray(o_idx, dtype=np.int64)
    if kind != "any":
        o_idx = o_idx[(world.openings.frame["kind"].to_numpy()[o_idx] == kind)]
    pairs = Pairs.build(world, np.repeat(p_idx, len(o_idx)), np.tile(o_idx, len(p_idx)), as_of.toordinal())
    return pairs.subset(candidates.passes(pairs))


@st.composite
def varied_worlds(draw) -> World:
    """Synthetic worlds whose commute limits are sometimes all distinct."""
    n_p, n_o = draw(st.integers(1, 12)), draw(st.integers(1, 14))
    ps = [draw(participant(f"P-{i:03d}")) for i in range(n_p)]
    if draw(st.booleans()):
        for p in ps:
            p["max_commute_km"] = draw(st.floats(0.5, 80, allow_nan=False))
    return build_world(ps, [draw(opening(f"O-{i:03d}")) for i in range(n_o)])


@FAST
@given(varied_worlds(), st.sampled_from(["any", "job", "trial"]))
def test_the_index_finds_exactly_the_batch_candidates(world, kind):
    index = candidates.index(world)
    everyone, every_opening = np.arange(len(world.participants)), np.arange(len(world.openings))
    assert _pair_set(index.for_participants(everyone, AS_OF, kind)) == _pair_set(_every_pair(world, everyone, every_opening, AS_OF, kind))
    one = everyone[-1:]
    assert _pair_set(index.for_participants(one, AS_OF, kind)) == _pair_set(_every_pair(world, one, every_opening, AS_OF, kind))
    assert _pair_set(index.for_openings(every_opening, AS_OF)) == _pair_set(_every_pair(world, everyone, every_opening, AS_OF))


@FAST
@given(varied_worlds(), st.sampled_from(["any", "job", "trial"]))
def test_the_index_finds_exactly_the_candidates_where_homes_share_a_point(world, kind):
    """The employer view puts everyone of a home area at its centre: the index queries each
    distinct point once, with the largest radius there, and keeps each participant's hits within
    their own limit; the distances it hands on are the ones `Pairs` computes."""
    for w in (world, world.employer_view):
        everyone, every_opening = np.arange(len(w.participants)), np.arange(len(w.openings))
        found = candidates.index(w).for_participants(everyone, AS_OF, kind)
        assert _pair_set(found) == _pair_set(_every_pair(w, everyone, every_opening, AS_OF, kind))
        fresh = Pairs.build(w, found.p, found.o, AS_OF.toordinal())
        assert found.distance_km.tolist() == fresh.distance_km.tolist()
        found = candidates.index(w).for_openings(every_opening, AS_OF)
        assert _pair_set(found) == _pair_set(_every_pair(w, everyone, every_opening, AS_OF))
        fresh = Pairs.build(w, found.p, found.o, AS_OF.toordinal())
        assert found.distance_km.tolist() == fresh.distance_km.tolist()


@FAST
@given(varied_worlds(), monotone_models())
def test_ranked_lists_are_the_same_with_and_without_the_index(world, model):
    plain, indexed = MatchEngine(world, model, AS_OF), MatchEngine(world, model, AS_OF, index=candidates.Index(world))
    everyone, every_opening = np.arange(len(world.participants)), np.arange(len(world.openings))
    assert indexed.recommend(everyone, k=5) == plain.recommend(everyone, k=5)
    assert indexed.candidates(every_opening, k=5) == plain.candidates(every_opening, k=5)


@FAST
@given(varied_worlds(), monotone_models(), st.integers(1, 6))
def test_a_pruned_live_list_is_the_list_of_every_candidate_scored(world, model, k):
    """A one-subject list prunes pairs whose score bound cannot reach it (engine._may_list):
    forced on every list here, the lists equal scoring every candidate, in both directions."""
    everyone, every_opening = np.arange(len(world.participants)), np.arange(len(world.openings))
    full = MatchEngine(world, model, AS_OF)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine_module, "PRUNE_MIN", 1)
        pruned = MatchEngine(world, model, AS_OF)
        for p in everyone.tolist():
            assert pruned.recommend(np.array([p]), k=k) == full.recommend(np.array([p]), k=k)
        for o in every_opening.tolist():
            assert pruned.candidates(np.array([o]), k=k) == full.candidates(np.array([o]), k=k)


def test_pruning_drops_pairs_that_cannot_make_the_list(world, monkeypatch):
    """On the fixtures, a pruned opening's list scores fewer pairs than it has candidates (the
    bound does cut), and is still the full list."""
    eng = MatchEngine(runtime.snapshot(world).world, runtime.model(world), TODAY).employer
    o = max(range(len(eng.world.openings)), key=lambda j: len(eng.blocking.for_openings([j], TODAY)))
    pairs = eng.blocking.for_openings([o], TODAY)
    monkeypatch.setattr(engine_module, "PRUNE_PROBE", 20)
    assert len(eng._may_list(pairs, 1)) < len(pairs)
    monkeypatch.setattr(engine_module, "PRUNE_MIN", 10**9)
    full = eng.candidates(np.array([o]), k=1)
    monkeypatch.setattr(engine_module, "PRUNE_MIN", 1)
    assert eng.candidates(np.array([o]), k=1) == full


def test_the_index_is_not_used_for_a_world_with_other_openings(world):
    """A posted profile's world shares the openings; any other world gets its own index."""
    snap = runtime.snapshot(world)
    other = World(
        snap.world.participants,
        type(snap.world.openings)(snap.world.openings.frame.iloc[:5].reset_index(drop=True)),
        snap.world.skill_vocab,
    )
    p = np.arange(len(other.participants))
    engine = MatchEngine(other, runtime.model(world), TODAY, index=snap.index)
    assert _pair_set(engine.blocking.for_participants(p, TODAY)) == _pair_set(_every_pair(other, p, np.arange(len(other.openings)), TODAY))


# ----------------------------------------------------------------------------- snapshot cache


@pytest.fixture
def own_db(base_db, model_dir, tmp_path):
    """A private copy of the loaded fixtures (these tests write to it)."""
    path = tmp_path / "own.db"
    _copy_db(base_db, path)
    return settings_for(path, model_dir)


def _version(settings) -> int:
    with db_engine(settings).connect() as conn:
        return versioning.current(conn)


def _target(settings) -> dict:
    """A participant who wants a job, and a free orgnr."""
    with db_engine(settings).connect() as conn:
        p = conn.execute(select(t.participants).where(t.participants.c.goal != "trial").order_by(t.participants.c.participant_id)).first()
        orgnr = conn.execute(select(t.employers.c.orgnr).order_by(t.employers.c.orgnr)).scalar()
    return {"p": p, "orgnr": orgnr}


def _opening_csv(directory: Path, opening_id: str, target: dict) -> Path:
    p = target["p"]
    directory.mkdir()
    (directory / "openings.csv").write_text(
        "opening_id,orgnr,kind,title,styrk08,hours_per_week,postal_code,status,office_id,published_at\n"
        f"{opening_id},{target['orgnr']},job,Ny stilling,{p.desired_styrk08[0]},20,{p.postal_code},open,"
        f"{p.office_id},{TODAY}\n",
        encoding="utf-8",
    )
    return directory


def _fresh_ids(client, auth, pid: str) -> list[str]:
    res = client.get(f"/v1/participants/{pid}/matches", params={"fresh": True, "limit": 1000}, headers=auth("admin"))
    assert res.status_code == 200, res.text
    return [m["opening_id"] for m in res.json()["matches"]]


@pytest.mark.slow
def test_a_load_by_another_process_is_seen_by_the_next_fresh_request(own_db, auth, tmp_path):
    client = TestClient(create_app(own_db))
    target = _target(own_db)
    pid = target["p"].participant_id
    assert "O-LIVE-1" not in _fresh_ids(client, auth, pid)
    before = _version(own_db)

    env = {**os.environ, "MATCHING_DATABASE_URL": own_db.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "matching.cli", "load", str(_opening_csv(tmp_path / "new", "O-LIVE-1", target))],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert _version(own_db) > before
    assert "O-LIVE-1" in _fresh_ids(client, auth, pid)  # no wait, no rebuild asked for


def test_a_write_by_any_tool_moves_the_version_and_the_live_list(own_db, auth):
    client = TestClient(create_app(own_db))
    pid = _target(own_db)["p"].participant_id
    top = _fresh_ids(client, auth, pid)[0]
    before = _version(own_db)
    with sqlite3.connect(own_db.database_url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE openings SET status = 'filled' WHERE opening_id = ?", (top,))
    assert _version(own_db) == before + 1
    assert top not in _fresh_ids(client, auth, pid)


def test_unchanged_data_keeps_the_snapshot_even_for_unknown_ids(own_db, auth):
    """Nothing written → no reload, whatever is asked (an unknown id cannot force one)."""
    client = TestClient(create_app(own_db))
    pid = _target(own_db)["p"].participant_id
    _fresh_ids(client, auth, pid)
    first = runtime.snapshot(own_db)
    assert client.get("/v1/participants/P-NOPE/matches", params={"fresh": True}, headers=auth("admin")).status_code == 404
    _fresh_ids(client, auth, pid)
    assert runtime.snapshot(own_db) is first


def test_a_slow_rebuild_serves_the_previous_snapshot_then_the_new_one(own_db, tmp_path):
    from matching.store.load import load_directory

    old = runtime.snapshot(own_db)
    target = _target(own_db)
    load_directory(db_engine(own_db), _opening_csv(tmp_path / "new", "O-LIVE-2", target))
    stale = runtime.snapshot(own_db, wait=0)  # the rebuild has only just started
    assert stale is old and "O-LIVE-2" not in stale.world.openings.index
    new = runtime.snapshot(own_db, wait=runtime.FOREVER)
    assert new.version == _version(own_db) > old.version
    assert "O-LIVE-2" in new.world.openings.index


def test_a_row_newer_than_the_snapshot_waits_for_the_rebuild(own_db, auth, tmp_path):
    """Even with no waiting allowed, a participant the snapshot lacks is found, not 404."""
    from matching.store.load import load_directory

    slow = own_db.model_copy(update={"snapshot_wait": 0.0})
    client = TestClient(create_app(slow))
    target = _target(slow)
    _fresh_ids(client, auth, target["p"].participant_id)
    with db_engine(slow).connect() as conn:
        row = dict(conn.execute(select(t.participants).where(t.participants.c.participant_id == target["p"].participant_id)).one()._mapping)
    from tests.test_api_lists import _participant_csv

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "participants.csv").write_text(_participant_csv(row, "P-LIVE-NEW"), encoding="utf-8")
    load_directory(db_engine(slow), tmp_path / "p")
    ids = _fresh_ids(client, auth, "P-LIVE-NEW")
    assert ids == _fresh_ids(client, auth, target["p"].participant_id)


def test_a_database_restored_from_a_backup_is_served_although_its_version_is_lower(own_db, tmp_path):
    """Review finding: a snapshot newer than the database (restored backup) was served until
    writes pushed the counter past it. Any version change, up or down, rebuilds."""
    path = own_db.database_url.removeprefix("sqlite:///")
    backup = tmp_path / "backup.db"
    with sqlite3.connect(path) as src, sqlite3.connect(backup) as dst:
        src.backup(dst)
    opening = next(iter(runtime.snapshot(own_db).world.openings.index))
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM openings WHERE opening_id = ?", (opening,))
    after_delete = runtime.snapshot(own_db, wait=runtime.FOREVER)
    assert opening not in after_delete.world.openings.index
    db_engine(own_db).dispose()
    with sqlite3.connect(backup) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    assert _version(own_db) < after_delete.version
    restored = runtime.snapshot(own_db, wait=runtime.FOREVER)
    assert restored.version == _version(own_db) and opening in restored.world.openings.index
