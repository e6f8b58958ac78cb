"""Nightly refresh: every participant's and every open opening's top-K, published atomically.

Participants are sharded by office (large offices split further); the same shard function
runs on local processes (joblib/loky) or on a Dask distributed cluster. Rows are written
under a new run id as shards finish; only the last step flips the single `serving` pointer
in one transaction. A run that fails or is killed (even SIGKILL) therefore never becomes
visible; the next run discards its leftovers. Runs before the previous one are pruned
beyond `keep_runs`.

One refresh at a time: a lock row names the refresh that may write; a new refresh refuses
to start while that process lives, and otherwise discards the dead run's leftovers.
"""

from __future__ import annotations

import datetime as dt
import logging
import pickle
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from matching import candidates, topk
from matching.config import Settings
from matching.criteria import BY_NAME
from matching.engine import MatchEngine
from matching.features import FeatureSet
from matching.pairs import Pairs
from matching.schema import RunStatus
from matching.scoring import ScoringModel
from matching.store import Engine, lists, runs, versioning
from matching.store.db import engine_for
from matching.store.runs import RefreshInProgress
from matching.store.snapshot import load_world
from matching.topk import Ranked
from matching.world import World

log = logging.getLogger(__name__)

MAX_SHARD = 2000
NO_DEADLINE = 10**7  # world.openings.deadline_ord of an opening without a deadline is above this
__all__ = ["RefreshInProgress", "RunSummary", "refresh"]


@dataclass
class RunSummary:
    run_id: str
    status: RunStatus
    n_participants: int = 0
    n_openings: int = 0
    n_pairs: int = 0
    seconds: float = 0.0
    backend: str = "local"
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------- shards


def shards(world: World, max_size: int = MAX_SHARD) -> list[np.ndarray]:
    """Participant row indices grouped by office, each group cut to at most max_size."""
    frame = world.participants.frame
    out: list[np.ndarray] = []
    for _, rows in sorted(frame.groupby("office_id").indices.items()):
        rows = np.sort(rows)
        out.extend(rows[i : i + max_size] for i in range(0, len(rows), max_size))
    return out


_WORLD_CACHE: dict[str, World] = {}


def _resolve_world(world_ref: World | str) -> World:
    """Workers get either the World itself (Dask scatter) or a file to load once per process.

    The file is a plain pickle (the C unpickler): joblib's pure-Python unpickler took 8-11 s
    per worker for the national snapshot's ~3M strings, pickle takes 0.6 s."""
    if isinstance(world_ref, World):
        return world_ref
    if world_ref not in _WORLD_CACHE:
        _WORLD_CACHE.clear()
        with open(world_ref, "rb") as f:
            _WORLD_CACHE[world_ref] = pickle.load(f)  # written by _run_local, in its private temp dir
    return _WORLD_CACHE[world_ref]


def _packed_lists(ranked: Ranked, subject_ids: np.ndarray, other_ids: np.ndarray, quoted: list[bytes] | None = None) -> list[tuple]:
    """(subject id, others, scores, levels[, quoted]) per list, packed where the lists are made."""
    starts, ends = ranked.segments()
    return [
        (
            str(subject_ids[ranked.group[a]]),
            *lists.pack(other_ids[ranked.other[a:b]], ranked.score[a:b], ranked.levels[a:b]),
            *(() if quoted is None else (quoted[n],)),
        )
        for n, (a, b) in enumerate(zip(starts, ends))
    ]


def _empty_lists(subjects: np.ndarray, listed: np.ndarray, subject_ids: np.ndarray) -> list[tuple]:
    """An empty stored list for each subject the run ranked that got none: a stored row then
    means "ranked by this run", its absence "not in the run" (matching/serving.py)."""
    missing = np.setdiff1d(np.asarray(subjects, dtype=np.int64), listed)
    empty = lists.pack([], np.zeros(0), np.zeros((0, 0), dtype=np.uint8))
    return [(str(subject_ids[i]), *empty) for i in missing]


_QUOTED_OPENING = ("kind", "title", "employer_name", "orgnr")


def _quoted_lists(engine: MatchEngine, ranked: Ranked) -> list[bytes]:
    """Per participant list (in `ranked.segments()` order), what its reasons quote, as the run
    computed it, packed (store/lists.py `Quoted`): a stored read then needs no World while none
    of the list's rows changed since."""
    w = engine.world
    criteria = tuple(BY_NAME[c] for c in engine.model.criteria)
    pairs = Pairs.build(w, ranked.group, ranked.other, engine.as_of.toordinal())
    columns = FeatureSet(criteria, ranked.levels, pairs).columns()
    frame = w.openings.frame
    info = {c: frame[c].to_numpy()[ranked.other] for c in _QUOTED_OPENING}
    deadline = w.openings.deadline_ord[ranked.other]
    starts, ends = ranked.segments()
    earliest = np.minimum.reduceat(deadline, starts) if len(starts) else np.zeros(0, dtype=np.int64)
    return [
        lists.pack_quoted(
            lists.Quoted(
                {c: {k: v[a:b] for k, v in vals.items()} for c, vals in columns.items()},
                {c: [x if isinstance(x, str) else str(x) for x in info[c][a:b].tolist()] for c in _QUOTED_OPENING},
                int(until) if until < NO_DEADLINE else None,
            )
        )
        for a, b, until in zip(starts, ends, earliest)
    ]


@lru_cache(maxsize=1)
def _threadpools():
    """Found once per process: looking up the native thread pools cost ~4 ms a shard."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def score_shard(world_ref: World | str, model: dict, as_of: dt.date, p_idx: np.ndarray, k: int) -> dict[str, Any]:
    """The unit of batch work, identical on every backend: the shard's participant lists,
    packed for storage, and its partial opening-side top-k as arrays."""
    with _threadpools().limit(limits=1):
        engine = MatchEngine(_resolve_world(world_ref), ScoringModel.from_dict(model), as_of)
        p2o, o2p, n_scored = engine.both_directions(p_idx, k)
        w = engine.world
        packed = _packed_lists(p2o, w.participants.ids, w.openings.ids, _quoted_lists(engine, p2o))
        packed += _empty_lists(p_idx, p2o.group, w.participants.ids)
    return {"p_lists": packed, "n_listed": len(p2o), "o2p": o2p, "n_scored": n_scored, "n_participants": len(p_idx)}


# ---------------------------------------------------------------------------- backends


def _run_local(world: World, model: dict, as_of, parts, k, n_jobs) -> Iterator[dict]:
    if n_jobs == 1:
        for p in parts:
            yield score_shard(world, model, as_of, p, k)
        return
    # Workers load the snapshot once per process from a file instead of one pickle per shard.
    with tempfile.TemporaryDirectory(prefix="matching-refresh-") as tmp:
        path = str(Path(tmp) / "world.pickle")
        with open(path, "wb") as f:
            pickle.dump(world, f, protocol=pickle.HIGHEST_PROTOCOL)
        parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        yield from parallel(joblib.delayed(score_shard)(path, model, as_of, p, k) for p in parts)


def _run_dask(world: World, model: dict, as_of, parts, k, scheduler: str | None, n_workers: int = 2) -> Iterator[dict]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - depends on extras
        raise ImportError("the Dask backend needs the 'scale' extra: pip install 'nav-matching[scale]'") from exc
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        world_f = client.scatter(world, broadcast=True)
        futures = [client.submit(score_shard, world_f, model, as_of, p, k, pure=False) for p in parts]
        done = as_completed(futures)
        futures.clear()  # each result is dropped from the cluster once consumed: memory stays flat
        for fut in done:
            res = fut.result()
            fut.release()
            yield res
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------------------- storage (store/runs.py)

#: Merge the opening side's partial lists once this many entries are waiting.
MERGE_AT = 2_000_000
#: Lists per INSERT batch.
WRITE_BATCH = 5000


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def refresh(
    settings: Settings,
    *,
    backend: str = "local",
    n_jobs: int = 1,
    progress: bool = False,
    model: ScoringModel | None = None,
    db: Engine | None = None,
    shard_size: int = MAX_SHARD,
    dask_workers: int = 2,
    gate: dict[str, Any] | None = None,
) -> RunSummary:
    """Compute and publish a new run; on any error the serving run stays as it was.

    backend "dask" (or a scheduler address in settings) runs the shards on that Dask
    scheduler, or on a LocalCluster of `dask_workers` processes when there is none. `gate`:
    the promotion gate's verdict taken before this run (`gate.record`), stored on its row."""
    import time

    started = time.perf_counter()
    db = db or engine_for(settings.database_url)
    model = model or ScoringModel.load(settings.model_dir)
    as_of, k = settings.as_of(), settings.top_k
    backend_name = "dask" if (backend == "dask" or settings.dask_scheduler) else "local"
    run_id = new_run_id()
    with db.begin() as conn:
        runs.acquire(conn, run_id)
        stale = runs.abandon_unfinished(conn)
        if stale:
            log.warning("discarded unfinished run(s): %s", ", ".join(stale))
        # The version first: a write committed while the snapshot is read then counts as a change.
        version = versioning.current(conn)
        runs.start(conn, run_id, as_of=as_of, model_version=model.version, backend=backend_name, top_k=k, data_version=version, gate=gate)
        world = load_world(conn)
    summary = RunSummary(run_id, RunStatus.running, backend=backend_name)
    try:
        world = world.slim()
        candidates.index(world).for_participants([], as_of)  # the opening tree, built once for every worker
        parts = shards(world, shard_size)
        summary.extra["snapshot_seconds"] = round(time.perf_counter() - started, 2)  # read + encoded, before any shard
        model_dict = model.to_dict()
        results = (
            _run_dask(world, model_dict, as_of, parts, k, settings.dask_scheduler, dask_workers)
            if backend_name == "dask"
            else _run_local(world, model_dict, as_of, parts, k, n_jobs)
        )
        pending: list[Ranked] = []  # opening side: partial top-k lists from the shards
        n_pending = 0
        tie_rank = world.participants.tie_rank
        bar = _progress(progress, len(world.participants))
        with bar:
            task = bar.add_task("refresh", total=len(world.participants))
            for res in results:
                with db.begin() as conn:
                    runs.heartbeat(conn, run_id)
                    runs.write_participant_lists(conn, run_id, res["p_lists"])
                summary.n_pairs += res["n_listed"]
                summary.extra["scored_pairs"] = summary.extra.get("scored_pairs", 0) + res["n_scored"]
                pending.append(res["o2p"])
                n_pending += len(res["o2p"])
                if n_pending > MERGE_AT:
                    pending = [topk.best(Ranked.concat(pending), tie_rank, k)]
                    n_pending = len(pending[0])
                summary.n_participants += res["n_participants"]
                bar.advance(task, res["n_participants"])
        summary.extra["shards_done_seconds"] = round(time.perf_counter() - started, 2)
        with db.begin() as conn:
            runs.heartbeat(conn, run_id)
        n_criteria = len(model.criteria)
        o2p = topk.best(Ranked.concat(pending), tie_rank, k) if pending else Ranked.empty(n_criteria)
        del pending
        o_rows = _packed_lists(o2p, world.openings.ids, world.participants.ids)
        eligible = np.flatnonzero(world.openings.is_open & (world.openings.deadline_ord >= as_of.toordinal()))
        o_rows += _empty_lists(eligible, o2p.group, world.openings.ids)
        with db.begin() as conn:
            for i in range(0, len(o_rows), WRITE_BATCH):
                runs.write_opening_lists(conn, run_id, o_rows[i : i + WRITE_BATCH])
            summary.n_openings = len(o_rows)
            runs.write_employer_view(conn, run_id, lists.employer_view_record(world))
            runs.set_counts(conn, run_id, n_participants=summary.n_participants, n_openings=summary.n_openings, n_pairs=summary.n_pairs)
            runs.publish(conn, run_id)
            runs.prune(conn, settings.keep_runs)
            runs.release(conn, run_id)
    except BaseException as exc:
        with db.begin() as conn:
            runs.fail(conn, run_id, f"{type(exc).__name__}: {exc}")
            runs.release(conn, run_id)
        raise
    summary.status = RunStatus.published
    summary.seconds = time.perf_counter() - started
    return summary


def _progress(enabled: bool, total: int):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), disable=not enabled)
