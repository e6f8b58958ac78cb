"""Process-wide handles: the database engine, the trained model and a current snapshot.

The snapshot (World + its blocking index, candidates.Index) is what every live ranking scores against. It is
tied to the database's data version (a counter triggers bump on every write to
participants, openings or employers, see store/versioning.py), not to a timer:

- each request reads the version (one single-row query) and uses the snapshot as long as it
  matches — at national scale a rebuild reads 300,000 rows and must not happen per request
  or on a clock;
- when the version has moved, one background thread rebuilds (single flight) and the
  request waits up to `settings.snapshot_wait` seconds for it. A small world is rebuilt in
  that time, so a `matching load` is visible to the next request; a national one keeps being
  served from the previous snapshot until the new one is ready, instead of stalling every
  request for the length of a rebuild;
- a request that needs a row the snapshot lacks (registered since) waits for the rebuild.

Nothing is built at import; `warm()` (called when the API starts, unless
`settings.snapshot_warm` is false) builds in the background. Stored lists never need the
snapshot (`matching.serving` reads their rows by id), so a worker that serves only those and
does not warm never builds it. With several server workers (`matching serve --workers N`,
api/serve.py) the snapshot is built once, before the workers are forked, and shared by them.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from matching import candidates
from matching.config import Settings, get_settings
from matching.criteria import ALL
from matching.engine import MatchEngine
from matching.features import evaluate
from matching.scoring import ScoringModel
from matching.store import Connection, Engine, participants, versioning
from matching.store.db import engine_for
from matching.store.snapshot import load_world
from matching.world import World

log = logging.getLogger(__name__)

FOREVER = float("inf")


@dataclass(frozen=True)
class Snapshot:
    version: int
    world: World
    index: candidates.Index  # the World's; its employer view has its own (candidates.index)
    seconds: float  # build time


class _Slot:
    """One database URL's current snapshot and its in-flight rebuild, if any."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.pending: cf.Future[Snapshot] | None = None


_lock = threading.Lock()
_slots: dict[str, _Slot] = {}


def db(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    return engine_for(settings.database_url)


@lru_cache(maxsize=4)
def _model(model_dir: str, version: str, mtime_ns: int) -> ScoringModel:
    from pathlib import Path

    return ScoringModel.load(Path(model_dir), version or None)


def model(settings: Settings | None = None) -> ScoringModel:
    """The served model: the version `models/LATEST` names, reloaded as soon as a promotion or
    rollback (`matching model …`) rewrites it — keyed on the version it names, not only its
    mtime, so two promotions within one clock tick are still both seen."""
    settings = settings or get_settings()
    latest = settings.model_dir / "LATEST"
    try:
        mtime_ns = latest.stat().st_mtime_ns
        version = latest.read_text().strip()
    except FileNotFoundError:
        mtime_ns, version = 0, ""
    return _model(str(settings.model_dir), version, mtime_ns)


def data_version(settings: Settings, conn: Connection | None = None) -> int:
    """The database's data version; on `conn` when the caller has one (a request does)."""
    if conn is not None:
        return versioning.current(conn)
    with db(settings).connect() as own:
        return versioning.current(own)


def _warm(world: World, as_of) -> candidates.Index:
    """Build the World's blocking index and fill its lazily cached encodings now, not in the
    first request that needs them."""
    index = candidates.index(world)
    index.warm(as_of)
    for pairs in (
        index.for_participants(np.arange(min(1, len(world.participants))), as_of),
        index.for_openings(np.arange(min(1, len(world.openings))), as_of),
    ):
        features = evaluate(pairs, ALL)
        if len(features):
            features.values_at(0)  # what the reasons quote reads encodings of its own
    world.participants.index, world.openings.index  # noqa: B018 - cached lookups
    world.participants.tie_rank, world.openings.tie_rank  # noqa: B018 - the top-k tie-break
    return index


def _build(settings: Settings) -> Snapshot:
    start = time.perf_counter()
    engine = db(settings)
    with engine.connect() as conn:
        # Read before the tables: a write landing mid-read makes this snapshot newer than its
        # version says, so the next check rebuilds once more — never the other way round.
        version = versioning.current(conn)
        world = load_world(conn)
    index = _warm(world, settings.as_of())
    _warm(world.employer_view, settings.as_of())  # participants at their areas' centres
    snap = Snapshot(version, world, index, time.perf_counter() - start)
    log.info(
        "snapshot v%d built in %.2f s: %d participants, %d openings", version, snap.seconds, len(world.participants), len(world.openings)
    )
    return snap


def _start_build(slot: _Slot, settings: Settings) -> cf.Future[Snapshot]:
    """Caller holds _lock. The finished build replaces the slot's snapshot."""
    future: cf.Future[Snapshot] = cf.Future()

    def work() -> None:
        try:
            snap = _build(settings)
        except BaseException as exc:  # handed to every waiter; the next request retries
            log.exception("snapshot build failed")
            with _lock:
                slot.pending = None
            future.set_exception(exc)
            return
        with _lock:
            # Builds are single flight, so the one finishing is the last one started: install it
            # even if its version is lower (a database restored from a backup goes backwards).
            slot.snapshot = snap
            slot.pending = None
        future.set_result(snap)

    slot.pending = future
    threading.Thread(target=work, name="snapshot-build", daemon=True).start()
    return future


def snapshot(settings: Settings | None = None, *, wait: float | None = None, conn: Connection | None = None) -> Snapshot:
    """The snapshot at the database's current data version (read on `conn` if given), or —
    if a rebuild takes longer than `wait` seconds (default settings.snapshot_wait) — the
    previous one."""
    settings = settings or get_settings()
    wait = settings.snapshot_wait if wait is None else wait
    version = data_version(settings, conn)
    deadline = time.monotonic() + wait
    while True:
        with _lock:
            slot = _slots.setdefault(settings.database_url, _Slot())
            current = slot.snapshot
            if current is not None and current.version == version:
                return current
            future = slot.pending or _start_build(slot, settings)
        left = None if current is None or wait == FOREVER else deadline - time.monotonic()
        try:
            built = future.result(timeout=None if left is None else max(left, 0.0))
        except cf.TimeoutError:
            assert current is not None  # without a snapshot to fall back on there is no timeout (left is None)
            log.warning("serving snapshot v%d while v%d is being built", current.version, version)
            return current
        if built.version == version:
            return built
        # that build had started before the latest write: go round for a newer one


def world(settings: Settings | None = None) -> World:
    return snapshot(settings).world


def warm(settings: Settings | None = None) -> None:
    """Start building the snapshot in the background (the API calls this at start-up)."""
    settings = settings or get_settings()
    with _lock:
        slot = _slots.setdefault(settings.database_url, _Slot())
        if slot.snapshot is None and slot.pending is None:
            _start_build(slot, settings)


def forget() -> None:
    """Drop this process's snapshots (the master of `matching serve --workers N` calls this
    once its forked workers hold theirs, see api/serve.py). An unfinished build is left alone."""
    with _lock:
        for slot in _slots.values():
            slot.snapshot = None


def _consent_withdrawn(settings: Settings, world: World) -> bool:
    """Has anyone whose needs this snapshot's employer view weighs withdrawn consent since?"""
    weighed = world.participants.needs_shared
    if not weighed:
        return False
    with db(settings).connect() as conn:
        now = participants.sharing_needs(conn)
    return bool(weighed - now)


def match_engine(
    settings: Settings | None = None, *, wait: float | None = None, consent_current: bool = False, conn: Connection | None = None
) -> MatchEngine:
    """An engine on the current snapshot (see `snapshot`; `conn`: the caller's connection, for
    reading the data version). `consent_current`: for employer-facing answers, never one from
    a snapshot that still weighs the needs of someone who has withdrawn consent since — then
    wait for the rebuild, however long it takes."""
    settings = settings or get_settings()
    snap = snapshot(settings, wait=wait, conn=conn)
    if consent_current and snap.version != data_version(settings, conn) and _consent_withdrawn(settings, snap.world):
        snap = snapshot(settings, wait=FOREVER)
    return MatchEngine(snap.world, model(settings), settings.as_of(), index=snap.index)
