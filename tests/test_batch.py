"""Batch refresh: lists equal the live engine, runs publish atomically, a failed or killed
run leaves the previous run served, and Dask gives the same lists as local processes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from matching import batch
from matching.batch import refresh
from matching.config import Settings
from matching.criteria import BY_NAME
from matching.engine import MatchEngine
from matching.features import _plain_list
from matching.pairs import Pairs
from matching.schema import RunStatus
from matching.scoring import ScoringModel
from matching.store import lists
from matching.store import tables as t
from matching.store.db import make_engine
from matching.store.load import load_directory
from matching.store.snapshot import load_world
from tests.conftest import alive, children
from tests.synthetic import AS_OF, monotone_models, worlds

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "data" / "fixtures"
TODAY = dt.date(2026, 11, 16)


def _settings(db_path: Path, **kw) -> Settings:
    return Settings(
        database_url=f"sqlite:///{db_path}", today=TODAY, model_dir=ROOT / "models", secret_key="t" * 48, **({"top_k": 10} | kw)
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    settings = _settings(tmp_path_factory.mktemp("batch") / "batch.db")
    engine = make_engine(settings.database_url)
    load_directory(engine, FIXTURES)
    return settings, engine


def _serving(engine):
    with engine.connect() as conn:
        return conn.execute(select(t.serving.c.run_id, t.serving.c.previous_run_id)).one_or_none()


def _recommended(engine, run_id):
    r = t.recommended_lists
    with engine.connect() as conn:
        rows = conn.execute(select(r.c.participant_id, r.c.opening_ids, r.c.notes).where(r.c.run_id == run_id)).all()
    return {p: (json.loads(o), n) for p, o, n in rows}


def _lists(engine, run_id, side="participant"):
    with engine.connect() as conn:
        return lists.run_lists(conn, run_id, side)


def test_published_lists_equal_the_live_engine_in_both_directions(db):
    settings, engine = db
    summary = refresh(settings, db=engine)
    assert _serving(engine).run_id == summary.run_id
    with engine.connect() as conn:
        world = load_world(conn)
    live = MatchEngine(world, ScoringModel.load(settings.model_dir), TODAY)

    stored = _lists(engine, summary.run_id)
    fresh = live.recommend(np.arange(len(world.participants)), k=settings.top_k)
    # Every participant the run ranked has a stored list, an empty one too ("in the run, nothing fits").
    expected = {
        world.participants.ids[p]: [(i, s.opening_id, s.score) for i, s in enumerate(fresh.get(p, []), 1)]
        for p in range(len(world.participants))
    }
    assert any(not x for x in expected.values())
    assert stored == expected
    assert sum(map(len, stored.values())) == summary.n_pairs > 0

    stored_o = _lists(engine, summary.run_id, "opening")
    fresh_o = live.candidates(np.flatnonzero(world.openings.is_open), k=settings.top_k)
    eligible = np.flatnonzero(world.openings.is_open & (world.openings.deadline_ord >= TODAY.toordinal()))
    expected_o = {world.openings.ids[o]: [(i, s.participant_id, s.score) for i, s in enumerate(fresh_o.get(o, []), 1)] for o in eligible}
    assert stored_o == expected_o


def test_next_run_keeps_the_previous_and_old_runs_are_pruned(db):
    settings, engine = db
    first = refresh(settings, db=engine).run_id
    second = refresh(settings, db=engine).run_id
    assert tuple(_serving(engine)) == (second, first)
    small = settings.model_copy(update={"keep_runs": 2})
    third = refresh(small, db=engine).run_id
    with engine.connect() as conn:
        status = dict(conn.execute(select(t.runs.c.run_id, t.runs.c.status)).all())
        kept = set(conn.execute(select(t.participant_lists.c.run_id).distinct()).scalars())
    assert status[first] == RunStatus.pruned and first not in kept
    assert {second, third} <= kept


def test_old_runs_are_pruned_ahead_in_small_batches(db, monkeypatch):
    """A refresh prunes, while it runs, the runs its publish makes prunable (here
    the oldest of four, keep_runs=3), deleting their lists a few rows per transaction."""
    from matching.store import runs

    settings, engine = db
    monkeypatch.setattr(runs, "PRUNE_BATCH", 7)
    few = settings.model_copy(update={"keep_runs": 3})
    ids = [refresh(few, db=engine, n_jobs=2, shard_size=40).run_id for _ in range(4)]
    with engine.connect() as conn:
        status = dict(conn.execute(select(t.runs.c.run_id, t.runs.c.status)).all())
        kept = {
            table.name: set(conn.execute(select(table.c.run_id).distinct()).scalars())
            for table in (t.participant_lists, t.opening_lists, t.recommended_lists, t.run_top_candidates, t.run_employer_views)
        }
    assert [status[r] for r in ids] == [RunStatus.pruned] + [RunStatus.published] * 3
    for table, runs_kept in kept.items():
        assert ids[0] not in runs_kept and set(ids[1:]) <= runs_kept, table
    assert tuple(_serving(engine)) == (ids[3], ids[2])
    # The batches themselves: at most n rows each, until none of the run's rows are left.
    counts = []
    while True:
        with engine.begin() as conn:
            counts.append(runs.delete_some_lists(conn, ids[1], 7))
        if counts[-1] == 0:
            break
    assert len(counts) > 3 and max(counts) <= 7
    with engine.connect() as conn:
        for table, _ in runs._LIST_KEYS:
            assert not conn.execute(select(func.count()).select_from(table).where(table.c.run_id == ids[1])).scalar()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_failing_run_leaves_the_served_run_untouched(db, n_jobs):
    settings, engine = db
    served = _serving(engine)
    good = ScoringModel.load(settings.model_dir)
    broken = ScoringModel(good.version, good.criteria, [w[:1] for w in good.level_weights], good.intercept)
    with pytest.raises(ValueError, match="levels"):  # raised in the shards, on the workers with n_jobs=2
        refresh(settings, db=engine, model=broken, n_jobs=n_jobs, shard_size=40)
    assert _serving(engine) == served
    with engine.connect() as conn:
        failed = conn.execute(select(t.runs.c.run_id).where(t.runs.c.status == RunStatus.failed)).scalars().all()
        leftovers = conn.execute(
            select(func.count()).select_from(t.participant_lists).where(t.participant_lists.c.run_id.in_(failed))
        ).scalar()
    assert failed and leftovers == 0


@pytest.mark.slow
def test_dask_backend_gives_the_same_lists_as_local(db):
    """An existing cluster reached by its scheduler address (as in production) against local
    worker processes, and for the recommended-now lists also inline."""
    from dask.distributed import LocalCluster

    settings, engine = db
    local = refresh(settings, db=engine, shard_size=40, n_jobs=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = refresh(settings.model_copy(update={"dask_scheduler": cluster.scheduler_address}), db=engine, shard_size=40)
    assert remote.backend == "dask"
    for side in ("participant", "opening"):
        expected = _lists(engine, local.run_id, side)
        assert expected and _lists(engine, remote.run_id, side) == expected
    assert remote.extra["scored_pairs"] == local.extra["scored_pairs"] > 0
    # the recommended-now step (one priced shard per office, on the run's backend) too, and inline
    assert settings.alloc_mode == "price"
    inline = refresh(settings, db=engine, shard_size=40, n_jobs=1)
    expected = _recommended(engine, inline.run_id)
    assert sum(1 for oids, _ in expected.values() if oids) > 0
    assert _recommended(engine, local.run_id) == expected and _recommended(engine, remote.run_id) == expected
    assert remote.extra["congestion"] == local.extra["congestion"] == inline.extra["congestion"]


@pytest.mark.slow
def test_a_runs_lists_are_deleted_without_rewriting_freed_pages_and_the_setting_is_restored(db):
    """secure_delete=FAST for the lists' deletes only (runs._lists_deleted_fast): the
    connection's own setting — Debian builds SQLite with it on — is back afterwards."""
    from matching.store import runs

    settings, engine = db
    run_id = refresh(settings, db=engine).run_id
    seen = []
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA secure_delete=1")
        with runs._lists_deleted_fast(conn):
            seen.append(conn.exec_driver_sql("PRAGMA secure_delete").scalar())
        seen.append(conn.exec_driver_sql("PRAGMA secure_delete").scalar())
        runs.mark_pruned(conn, run_id)
        while runs.delete_some_lists(conn, run_id, 50):
            pass
        seen.append(conn.exec_driver_sql("PRAGMA secure_delete").scalar())
        assert not conn.execute(
            select(func.count()).select_from(t.participant_lists).where(t.participant_lists.c.run_id == run_id)
        ).scalar()
    assert seen == [2, 1, 1]  # 2 is FAST


def test_the_snapshot_is_read_in_one_read_transaction_that_lets_others_write(db):
    """`db.reading`: a write committed meanwhile by another connection does not wait for the
    read (no write lock held: the pruning process deletes while a refresh reads its snapshot),
    and is not seen by it (one snapshot: pysqlite alone would give each SELECT its own)."""
    from sqlalchemy import update

    from matching.store import versioning
    from matching.store.db import reading

    _, engine = db
    with reading(engine) as conn:
        before = versioning.current(conn)
        started = time.monotonic()
        with engine.begin() as other:
            other.execute(update(t.data_version).values(version=t.data_version.c.version + 1))
        assert time.monotonic() - started < 5
        assert versioning.current(conn) == before
    with engine.connect() as conn:
        assert versioning.current(conn) == before + 1


def test_old_runs_are_pruned_by_a_process_of_their_own_which_dies_with_the_refresh(db, monkeypatch):
    """The refresh starts its pruning as a process (store/pruning.py) before its snapshot
    read; stopped half-way (a failed refresh), what it marked pruned is finished by the next."""
    from matching.store import pruning, runs

    settings, engine = db
    few = settings.model_copy(update={"keep_runs": 2})
    for _ in range(3):
        refresh(settings, db=engine)  # published, nothing pruned (keep_runs 5)
    with engine.connect() as conn:
        ahead = runs.prunable(conn, 2, ahead=True)
        in_lists = select(func.count()).select_from(t.participant_lists).where(t.participant_lists.c.run_id.in_(ahead))
        total = conn.execute(in_lists).scalar()
    assert ahead and total
    assert pruning.start(engine, 50, 1).proc is None  # nothing to prune: no process
    started = pruning.start(engine, 2, 1)  # one row per transaction: slow enough to stop half-way
    assert started.proc is not None and started.proc.pid != os.getpid()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if 0 < conn.execute(in_lists).scalar() < total:  # some deleted, not all
                break
        time.sleep(0.02)
    started.stop()
    assert started.proc.returncode == -signal.SIGTERM
    with engine.connect() as conn:
        assert set(ahead) <= set(runs.pruned(conn))
        assert conn.execute(in_lists).scalar()
    refresh(few, db=engine)
    with engine.connect() as conn:
        assert conn.execute(in_lists).scalar() == 0


def test_sigkill_mid_run_leaves_the_previous_run_served(tmp_path):
    from worldgen import generate_world

    data = tmp_path / "data"
    generate_world(data, seed=11, n_participants=3000, n_employers=120, n_openings=1200, suggestions_per_participant=0.2)
    settings = _settings(tmp_path / "kill.db")
    engine = make_engine(settings.database_url)
    load_directory(engine, data)
    served = refresh(settings, db=engine).run_id
    before = _lists(engine, served)

    env = {
        **os.environ,
        "MATCHING_DATABASE_URL": settings.database_url,
        "MATCHING_TODAY": TODAY.isoformat(),
        "MATCHING_TOP_K": "10",
        "MATCHING_SECRET_KEY": "t" * 48,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "matching.cli", "refresh", "--no-progress"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    killed_run = None
    while time.monotonic() < deadline and proc.poll() is None:
        with engine.connect() as conn:
            running = conn.execute(select(t.runs.c.run_id).where(t.runs.c.status == RunStatus.running)).scalar()
            written = (
                running
                and conn.execute(
                    select(func.count()).select_from(t.participant_lists).where(t.participant_lists.c.run_id == running)
                ).scalar()
            )
        if written:
            killed_run = running
            workers = children(proc.pid)
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=30)
    assert killed_run is not None, "the refresh finished before it could be killed; make the world bigger"
    assert proc.returncode == -signal.SIGKILL
    assert workers, "the default refresh runs its shards on worker processes"
    gone = time.monotonic() + 30
    while any(alive(w) for w in workers) and time.monotonic() < gone:  # they die with the refresh
        time.sleep(0.1)
    assert not any(alive(w) for w in workers), "worker processes outlived the killed refresh"

    assert _serving(engine).run_id == served
    assert _lists(engine, served) == before

    after = refresh(settings, db=engine)
    assert tuple(_serving(engine)) == (after.run_id, served)
    with engine.connect() as conn:
        status = conn.execute(select(t.runs.c.status).where(t.runs.c.run_id == killed_run)).scalar()
        leftovers = conn.execute(
            select(func.count()).select_from(t.participant_lists).where(t.participant_lists.c.run_id == killed_run)
        ).scalar()
    assert status == RunStatus.abandoned and leftovers == 0


def test_a_second_refresh_refuses_while_the_first_is_alive(db):
    import socket

    from sqlalchemy import delete, insert

    from matching.batch import RefreshInProgress

    settings, engine = db
    served = _serving(engine)
    lock = t.refresh_lock
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with engine.begin() as conn:  # held by another live process with a fresh heartbeat
            conn.execute(delete(lock))
            conn.execute(insert(lock).values(id=1, run_id="other-run", owner=f"{socket.gethostname()}:{holder.pid}", heartbeat_at=now))
        with pytest.raises(RefreshInProgress, match="other-run"):
            refresh(settings, db=engine)
        assert _serving(engine) == served
        with engine.begin() as conn:  # same live pid, but silent for an hour: a reused pid, not a refresh
            conn.execute(lock.update().values(heartbeat_at=now - dt.timedelta(hours=1)))
        stale = refresh(settings, db=engine)
        assert _serving(engine).run_id == stale.run_id
        with engine.begin() as conn:
            conn.execute(lock.update().values(run_id="other-run", heartbeat_at=now))
    finally:
        holder.kill()
        holder.wait()

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with engine.begin() as conn:  # the holder died (SIGKILL, crash): the lock is taken over
        conn.execute(lock.update().values(owner=f"{socket.gethostname()}:{dead.stdout.strip()}"))
    taken = refresh(settings, db=engine)
    assert _serving(engine).run_id == taken.run_id
    with engine.connect() as conn:
        assert conn.execute(select(lock.c.run_id)).scalar() is None  # released after publishing


def test_a_snapshot_is_read_with_the_collector_paused_and_left_as_it_was(db, monkeypatch):
    """`load_world` pauses Python's cyclic collector while it reads (`world.gc_paused`: most of
    a national snapshot's read was collections) and restores it after, on or off as found, even
    when the read fails."""
    import gc

    import matching.store.snapshot as snapshot

    _, engine = db
    seen: list[bool] = []
    real = snapshot.participants_frame

    def spy(conn, ids=None):
        seen.append(gc.isenabled())
        return real(conn, ids)

    monkeypatch.setattr(snapshot, "participants_frame", spy)
    assert gc.isenabled()
    with engine.connect() as conn:
        assert len(load_world(conn).participants) > 0
        assert gc.isenabled()
        gc.disable()
        try:
            load_world(conn)
            assert not gc.isenabled()  # off before: left off
        finally:
            gc.enable()

        def broken(conn, ids=None):
            raise RuntimeError("read failed")

        monkeypatch.setattr(snapshot, "participants_frame", broken)
        with pytest.raises(RuntimeError):
            load_world(conn)
        assert gc.isenabled()
    assert seen == [False, False]


@settings(max_examples=30, deadline=None)
@given(worlds(max_participants=6, max_openings=12), monotone_models(), st.integers(1, 4), st.integers(1, 8))
def test_each_quoted_blob_is_its_own_lists_values_packed(world, model, n, k):
    """The batch quotes every list's values from columns computed once for the shard and cut
    per list (issue 10): each blob must be, byte for byte, that list's own first n pairs'
    values, its openings' summaries and earliest deadline, packed on their own."""
    eng = MatchEngine(world, model, AS_OF)
    p2o, _, _ = eng.both_directions(np.arange(len(world.participants)), k)
    blobs = batch._quoted_lists(eng, p2o, n)
    starts, ends = p2o.segments()
    assert len(blobs) == len(starts)
    criteria = tuple(BY_NAME[c] for c in model.criteria)
    frame, deadline = eng.world.openings.frame, eng.world.openings.deadline_ord
    for blob, a, b in zip(blobs, starts.tolist(), ends.tolist()):
        h = min(b - a, n)
        pairs = Pairs.build(eng.world, p2o.group[a : a + h], p2o.other[a : a + h], AS_OF.toordinal())
        rows = p2o.other[a:b]
        until = int(deadline[rows].min())
        expected = lists.Quoted(
            {c.name: {key: _plain_list(v) for key, v in c.values(pairs).items()} for c in criteria},
            {c: [x if isinstance(x, str) else str(x) for x in frame[c].to_numpy()[rows].tolist()] for c in batch._QUOTED_OPENING},
            until if until < batch.NO_DEADLINE else None,
            h,
        )
        assert blob == lists.pack_quoted(expected)
        assert lists.unpack_quoted(blob) == expected


def test_windowed_map_yields_in_order_and_makes_tasks_only_a_window_ahead():
    """The recommended rows' map on the forked workers (`_imap(window=…)`): every result, in
    task order, with a lazy task list drawn at most `window` + 1 ahead of what was handed over."""
    import operator

    made: list[int] = []

    def tasks():
        for i in range(25):
            made.append(i)
            yield i

    with batch._LocalPool(None, 2) as pool:  # type: ignore[arg-type]  # the tasks need no snapshot
        results = batch._imap(operator.neg, tasks(), None, 2, pool, window=3)
        first = next(iter(results))
        assert first == 0 and len(made) <= 4
        assert [first, *results] == [-i for i in range(25)]
