"""Nightly refresh: every participant's and every open opening's top-K, published atomically.

Participants are sharded by office (large offices split further); the same shard function
runs on local processes (forked) or on a Dask distributed cluster. Rows are written
under a new run id as shards finish; only the last step flips the single `serving` pointer
in one transaction. A run that fails or is killed (even SIGKILL) therefore never becomes
visible; the next run discards its leftovers. Runs before the previous one are pruned
beyond `keep_runs`: those the new run's publish makes prunable are pruned by a process of
their own started with the run (store/pruning.py), on the core its snapshot read leaves idle,
so the deletes stay out of the shards' way and out of the run's tail.

One refresh at a time: a lock row names the refresh that may write; a new refresh refuses
to start while that process lives, and otherwise discards the dead run's leftovers.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from operator import itemgetter
from typing import Any

import joblib
import numpy as np
import orjson
import pandas as pd

from matching import allocation, candidates, contacts, topk
from matching.config import Settings
from matching.criteria import BY_NAME
from matching.engine import MatchEngine
from matching.features import FeatureSet
from matching.pairs import Pairs
from matching.procs import die_with_parent
from matching.schema import RunStatus
from matching.scoring import ScoringModel
from matching.store import Engine, lists, outcomes, pruning, runs, versioning
from matching.store.db import engine_for, reading
from matching.store.runs import RefreshInProgress
from matching.store.snapshot import load_world
from matching.topk import Ranked
from matching.world import World, gc_paused

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


#: The snapshot the local backend's workers inherit: set before they are forked, so they
#: share its pages instead of each unpickling a copy (`_run_local`).
_FORKED: World | None = None


def _forked_shard(args: tuple) -> dict[str, Any]:
    assert _FORKED is not None, "a local worker runs only in a process forked by _run_local"
    return score_shard(_FORKED, *args)


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


def _heads(ranked: Ranked, n: int) -> Ranked:
    """The first n rows of each group."""
    starts, ends = ranked.segments()
    position = np.arange(len(ranked)) - np.repeat(starts, ends - starts)
    return ranked.take(np.flatnonzero(position < n))


def _quoted_openings(world: World) -> dict[str, np.ndarray]:
    """The openings' columns a stored list quotes (`_QUOTED_OPENING`), as strings: converted
    once per openings table and kept on it, not per listed entry in every shard."""
    o = world.openings
    hit = o.__dict__.get("_quoted")
    if hit is None:
        hit = {c: np.array([x if isinstance(x, str) else str(x) for x in o.frame[c].tolist()], dtype=object) for c in _QUOTED_OPENING}
        o.__dict__["_quoted"] = hit
    return hit


def _quoted_lists(engine: MatchEngine, ranked: Ranked, n: int) -> list[bytes]:
    """Per participant list (in `ranked.segments()` order), packed (store/lists.py `Quoted`):
    every listed opening's kind, title, employer and orgnr and the earliest listed deadline, and
    what the reasons of the first n entries quote, as the run computed it. A stored read of
    those then needs no World while none of the list's rows changed since. Values only for the
    first n (`Settings.quoted_entries`, 20): quoting all K = 50 took a third of the national
    refresh's CPU, for entries rarely read."""
    w = engine.world
    criteria = tuple(BY_NAME[c] for c in engine.model.criteria)
    head = _heads(ranked, n)
    pairs = Pairs.build(w, head.group, head.other, engine.as_of.toordinal())
    columns = FeatureSet(criteria, head.levels, pairs).columns()
    keys = [(c, list(vals)) for c, vals in columns.items()]
    flat = [v.tolist() for vals in columns.values() for v in vals.values()]  # every value column, in `keys` order
    info = [col[ranked.other].tolist() for col in _quoted_openings(w).values()]
    starts, ends = ranked.segments()
    h_starts, h_ends = head.segments()  # the same groups, in the same order
    deadline = w.openings.deadline_ord[ranked.other]
    earliest = np.minimum.reduceat(deadline, starts) if len(starts) else np.zeros(0, dtype=np.int64)
    out = []
    for a, b, ha, hb, until in zip(starts.tolist(), ends.tolist(), h_starts.tolist(), h_ends.tolist(), earliest.tolist()):
        # One list's slice of every column, made in C (map, itemgetter); each criterion's dict
        # takes its own columns' slices from the one iterator (zip stops at the shorter keys
        # before drawing from it). Slicing in dict comprehensions cost as much as the JSON.
        sliced = map(itemgetter(slice(ha, hb)), flat)
        out.append(
            lists.pack_quoted_parts(
                {c: dict(zip(k, sliced)) for c, k in keys},
                dict(zip(_QUOTED_OPENING, map(itemgetter(slice(a, b)), info))),
                until if until < NO_DEADLINE else None,
                hb - ha,
            )
        )
    return out


@lru_cache(maxsize=1)
def _threadpools():
    """Found once per process: looking up the native thread pools cost ~4 ms a shard."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def score_shard(world: World, model: dict, as_of: dt.date, p_idx: np.ndarray, k: int, quoted: int) -> dict[str, Any]:
    """The unit of batch work, identical on every backend: the shard's participant lists,
    packed for storage, and its partial opening-side top-k as arrays."""
    with _threadpools().limit(limits=1):
        engine = MatchEngine(world, ScoringModel.from_dict(model), as_of)
        p2o, o2p, n_scored = engine.both_directions(p_idx, k)
        w = engine.world
        packed = _packed_lists(p2o, w.participants.ids, w.openings.ids, _quoted_lists(engine, p2o, quoted))
        packed += _empty_lists(p_idx, p2o.group, w.participants.ids)
    return {
        "p_lists": packed,
        "n_listed": len(p2o),
        "o2p": o2p,
        "n_scored": n_scored,
        "n_participants": len(p_idx),
        "alloc": _alloc_pairs(p2o),
    }


def _alloc_pairs(ranked: Ranked) -> tuple[np.ndarray, ...]:
    """What the allocation needs of a shard's personal lists, compact: (participant row,
    opening row, shown score, 0-based rank)."""
    pos = _positions(ranked.group)
    return (ranked.group.astype(np.int32), ranked.other.astype(np.int32), topk.shown(ranked.score).astype(np.float32), pos.astype(np.int16))


# ---------------------------------------------------------------------------- backends


class _LocalPool:
    """`n_jobs` worker processes forked once the snapshot is read, which therefore share its
    memory (copy-on-write) and start at once — pickling the national World to the workers
    cost ~4 s before the first shard and a copy of it per worker. The same workers then run
    the steps after the shards (the allocation, the recommended-now rows): no new processes
    to start and import while the run's tail waits. A worker that dies (even SIGKILL) breaks
    the pool: the run fails, and the served run stays as it was. `stop` ends it at once (a
    failed shard or write), leaving the context waits for nothing."""

    def __init__(self, world: World, n_jobs: int):
        global _FORKED
        _FORKED = world
        self.executor = ProcessPoolExecutor(
            n_jobs, mp_context=multiprocessing.get_context("fork"), initializer=die_with_parent, initargs=(os.getpid(),)
        )
        self.stopped = False

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """The workers' part of the run is done: end them now, freeing their memory."""
        if not self.stopped:
            self.stopped = True
            self.executor.shutdown()

    def __enter__(self) -> _LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        global _FORKED
        if not self.stopped:
            self.stopped = True
            self.executor.shutdown()
        _FORKED = None


def _run_local(world: World, model: dict, as_of, parts, k, quoted, pool: _LocalPool | None) -> Iterator[dict]:
    """Shards on this machine: in this process, or on the forked workers of `pool`."""
    if pool is None:
        for p in parts:
            yield score_shard(world, model, as_of, p, k, quoted)
        return
    try:
        # Only as_completed holds the futures, and it drops each one it yields: results don't
        # pile up in memory.
        for fut in as_completed([pool.executor.submit(_forked_shard, (model, as_of, p, k, quoted)) for p in parts]):
            yield fut.result()
    except BaseException:  # a failed shard or a failed write: stop now, not after every shard
        pool.stop()
        raise


@contextmanager
def _dask_client(scheduler: str | None, n_workers: int = 2) -> Iterator[Any]:
    """A client of the scheduler, or of a LocalCluster of `n_workers` processes, for one run."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on extras
        raise ImportError("the Dask backend needs the 'scale' extra: pip install 'nav-matching[scale]'") from exc
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run_dask(client: Any, world: World, model: dict, as_of, parts, k, quoted) -> Iterator[dict]:
    from dask.distributed import as_completed

    world_f = client.scatter(world, broadcast=True)
    futures = [client.submit(score_shard, world_f, model, as_of, p, k, quoted, pure=False) for p in parts]
    done = as_completed(futures)
    futures.clear()  # each result is dropped from the cluster once consumed: memory stays flat
    for fut in done:
        res = fut.result()
        fut.release()
        yield res


def _imap(fn: Any, tasks: Iterable, client: Any, n_jobs: int, pool: _LocalPool | None = None, window: int | None = None) -> Iterable:
    """`_map`, its results in order as they come in where the backend allows (the forked
    workers); a list elsewhere. `window` (forked workers): at most that many tasks submitted
    and not yet yielded — a lazy `tasks` is made, and results are held, only that far ahead of
    the caller (the recommended rows: all of them waited in this process while it stored the
    first, ~0.5 GB of a national run's peak)."""
    if client is None and pool is not None:
        return pool.executor.map(fn, tasks) if window is None else _windowed(pool, fn, tasks, window)
    return _map(fn, tasks, client, n_jobs, pool)


def _windowed(pool: _LocalPool, fn: Any, tasks: Iterable, window: int) -> Iterator:
    """`pool.executor.map(fn, tasks)` with at most `window` tasks in flight or done but not
    yet yielded; the next is submitted before a result is handed over, so the workers stay busy."""
    it = iter(tasks)
    pending = deque(pool.executor.submit(fn, t) for t in islice(it, max(window, 1)))
    try:
        while pending:
            result = pending.popleft().result()
            for t in islice(it, 1):
                pending.append(pool.executor.submit(fn, t))
            yield result
    finally:
        for fut in pending:
            fut.cancel()


def _map(fn: Any, tasks: Iterable, client: Any, n_jobs: int, pool: _LocalPool | None = None) -> list:
    """fn over tasks on the run's backend: the Dask client, the run's forked workers, other
    local processes, or inline. The forked workers start on the first task while an iterator
    of tasks is still producing the rest."""
    if client is not None:
        return client.gather(client.map(fn, list(tasks), pure=False))
    if pool is not None:
        return list(pool.executor.map(fn, tasks))
    tasks = list(tasks)
    if n_jobs > 1 and len(tasks) > 1:
        return list(joblib.Parallel(n_jobs=n_jobs)(joblib.delayed(fn)(t) for t in tasks))
    return [fn(t) for t in tasks]


# ---------------------------------------------------------------------------- storage (store/runs.py)

#: Merge the opening side's partial lists once this many entries are waiting.
MERGE_AT = 2_000_000
#: Lists per INSERT batch.
WRITE_BATCH = 5000


class _OpeningSide:
    """The opening side's lists, merged from the shards' partial top-k as they come in.

    After each merge every opening that has k entries has a bar: its k-th entry (shown score,
    then the participant's tie_rank). An incoming entry strictly below its opening's bar is
    dropped at once: k entries already beat it, and no later shard can make it better, so
    the lists are those of merging everything (tie_rank is unique per participant, and a
    participant is in one shard only). Most entries of later shards fall below the bar,
    which keeps the merges, sorts in this process while the workers score, small."""

    def __init__(self, tie_rank: np.ndarray, n_openings: int, k: int, merge_at: int = MERGE_AT):
        self.tie_rank, self.k, self.merge_at = tie_rank, k, merge_at
        self.bar_score = np.full(n_openings, -np.inf)
        self.bar_tie = np.full(n_openings, np.iinfo(np.int64).max, dtype=np.int64)
        self.pending: list[Ranked] = []
        self.n_pending = 0

    def add(self, part: Ranked) -> None:
        if len(part) == 0:
            return
        g, s, tie = part.group, topk.shown(part.score), self.tie_rank[part.other]
        bs = self.bar_score[g]
        keep = (s > bs) | ((s == bs) & (tie < self.bar_tie[g]))
        if not keep.all():
            part = part.take(np.flatnonzero(keep))
        self.pending.append(part)
        self.n_pending += len(part)
        if self.n_pending > self.merge_at:
            self._merge()

    def _merge(self) -> None:
        merged = topk.best(Ranked.concat(self.pending), self.tie_rank, self.k)
        self.pending, self.n_pending = [merged], len(merged)
        starts, ends = merged.segments()
        full = ends - starts >= self.k
        last = ends[full] - 1
        g = merged.group[last]
        self.bar_score[g] = topk.shown(merged.score[last])
        self.bar_tie[g] = self.tie_rank[merged.other[last]]

    def result(self, n_criteria: int) -> Ranked:
        if not self.pending:
            return Ranked.empty(n_criteria)
        self._merge()
        return self.pending[0]


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
    contacts_left: np.ndarray | None = None,
) -> RunSummary:
    """Compute and publish a new run; on any error the serving run stays as it was.

    backend "dask" (or a scheduler address in settings) runs the shards on that Dask
    scheduler, or on a LocalCluster of `dask_workers` processes when there is none. `gate`:
    the promotion gate's verdict taken before this run (`gate.record`), stored on its row.
    `contacts_left`: per employer (rows of `employer_rows(world)`), contacts it has left for
    the recommended-now lists; None = what the data says (`employer_contacts_left`)."""
    import time

    started, cpu_started = time.perf_counter(), time.process_time()
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
        # The version first: a write committed before or while the snapshot is read then counts as a change.
        version = versioning.current(conn)
        runs.start(conn, run_id, as_of=as_of, model_version=model.version, backend=backend_name, top_k=k, data_version=version, gate=gate)
    # Committed: the snapshot is read in a transaction of its own, which takes no write lock,
    # so the pruning process deletes while it is read.
    summary = RunSummary(run_id, RunStatus.running, backend=backend_name)
    stack = ExitStack()
    pool: _LocalPool | None = None
    pruned = pruning.Pruning(None)
    try:
        pruned = pruning.start(db, settings.keep_runs, runs.PRUNE_BATCH)
        with reading(db) as conn:
            world = load_world(conn)
            taken = outcomes.taken_places(conn, as_of)
            start_rate = outcomes.start_rate(conn, as_of)
            in_process: dict[str, int] = {}  # chains in flight per opening (the held-back notes)
            in_flight = outcomes.in_flight(conn, as_of, counts=in_process)  # chains in flight: places spoken for
        client = stack.enter_context(_dask_client(settings.dask_scheduler, dask_workers)) if backend_name == "dask" else None
        world = world.slim()
        candidates.index(world).for_participants([], as_of)  # the opening tree, built once for every worker
        parts = shards(world, shard_size)
        pool = stack.enter_context(_LocalPool(world, n_jobs)) if client is None and n_jobs > 1 else None
        summary.extra["snapshot_seconds"] = round(time.perf_counter() - started, 2)  # read + encoded, before any shard
        summary.extra["snapshot_cpu_seconds"] = round(time.process_time() - cpu_started, 2)  # this process
        summary.extra["pruned_before_shards"] = pruned.done()  # on the core the snapshot read leaves idle
        model_dict = model.to_dict()
        results = (
            _run_dask(client, world, model_dict, as_of, parts, k, settings.quoted_entries)
            if client is not None
            else _run_local(world, model_dict, as_of, parts, k, settings.quoted_entries, pool)
        )
        opening_side = _OpeningSide(world.participants.tie_rank, len(world.openings), k)
        alloc_parts: list[tuple[np.ndarray, ...]] = []  # personal lists, compact, for the allocation
        bar = _progress(progress, len(world.participants))
        with bar:
            task = bar.add_task("refresh", total=len(world.participants))
            for res in results:
                with db.begin() as conn:
                    runs.heartbeat(conn, run_id)
                    runs.write_participant_lists(conn, run_id, res["p_lists"])
                summary.n_pairs += res["n_listed"]
                summary.extra["scored_pairs"] = summary.extra.get("scored_pairs", 0) + res["n_scored"]
                opening_side.add(res["o2p"])
                alloc_parts.append(res["alloc"])
                summary.n_participants += res["n_participants"]
                bar.advance(task, res["n_participants"])
        if summary.n_participants != sum(len(p) for p in parts):  # a backend lost shards: never publish a partial run
            raise RuntimeError(f"shards returned {summary.n_participants} of {sum(len(p) for p in parts)} participants")
        summary.extra["shards_done_seconds"] = round(time.perf_counter() - started, 2)
        # this process's part of the shard phase (stored lists, the opening side's merges); inline shards included
        summary.extra["shards_cpu_seconds"] = round(time.process_time() - cpu_started - summary.extra["snapshot_cpu_seconds"], 2)
        with db.begin() as conn:
            runs.heartbeat(conn, run_id)
        alloc_started, alloc_cpu = time.perf_counter(), time.process_time()
        if contacts_left is None:  # the employers' caps less this month's contacts (matching/contacts.py)
            contacts_left = employer_contacts_left(world, as_of)

        def write_recommended(rows: list[tuple[str, str, str]]) -> None:
            with db.begin() as conn:
                runs.heartbeat(conn, run_id)
                for i in range(0, len(rows), WRITE_BATCH):
                    runs.write_recommended_lists(conn, run_id, rows[i : i + WRITE_BATCH])

        _, figures = recommend_now(
            world,
            alloc_parts,
            taken,
            settings,
            as_of,
            client=client,
            n_jobs=n_jobs,
            contacts_left=contacts_left,
            start_rate=start_rate,
            pool=pool,
            in_flight=in_flight,
            write=write_recommended,  # stored as the workers build them
            in_process=in_process,
            consume=True,
        )
        del alloc_parts
        if pool is not None:  # nothing more runs on the workers
            pool.close()
        summary.extra["congestion"] = figures
        summary.extra["allocation_seconds"] = round(time.perf_counter() - alloc_started, 2)  # its rows stored included
        summary.extra["allocation_cpu_seconds"] = round(time.process_time() - alloc_cpu, 2)  # this process (inline shards)
        with db.begin() as conn:
            runs.heartbeat(conn, run_id)
            runs.set_congestion(conn, run_id, figures)
        summary.extra["recommended_written_seconds"] = round(time.perf_counter() - started, 2)
        # Built after the allocation, not beside it: holding both at once took the national
        # run's peak over 4 GiB for ~3 s of wall time (benchmarks/RESULTS.md, session 19).
        o_rows, top_rows = _opening_rows(opening_side, len(model.criteria), world, as_of)
        del opening_side
        summary.extra["opening_lists_built_seconds"] = round(time.perf_counter() - started, 2)
        pruned.wait()  # done long since, unless it failed
        with db.begin() as conn:
            for i in range(0, len(o_rows), WRITE_BATCH):
                runs.write_opening_lists(conn, run_id, o_rows[i : i + WRITE_BATCH])
            summary.n_openings = len(o_rows)
            runs.write_employer_view(conn, run_id, lists.employer_view_record(world))
            for i in range(0, len(top_rows), WRITE_BATCH):
                runs.write_top_candidates(conn, run_id, top_rows[i : i + WRITE_BATCH])
            runs.set_counts(conn, run_id, n_participants=summary.n_participants, n_openings=summary.n_openings, n_pairs=summary.n_pairs)
            runs.publish(conn, run_id)
            runs.prune(conn, settings.keep_runs)
            runs.release(conn, run_id)
    except BaseException as exc:
        if pool is not None:
            pool.stop()
        pruned.stop()  # its deletes hold the write lock: end them first
        with db.begin() as conn:
            runs.fail(conn, run_id, f"{type(exc).__name__}: {exc}")
            runs.release(conn, run_id)
        raise
    finally:
        stack.close()
    summary.status = RunStatus.published
    summary.seconds = time.perf_counter() - started
    return summary


def _opening_rows(side: _OpeningSide, n_criteria: int, world: World, as_of: dt.date) -> tuple[list[tuple], list[tuple[str, str]]]:
    """The opening side's stored lists (every eligible opening, empty ones included) and the
    top-candidate marks, from the merged shards."""
    o2p = side.result(n_criteria)
    o_rows = _packed_lists(o2p, world.openings.ids, world.participants.ids)
    top_rows = top_candidates(o2p, world.openings.ids, world.participants.ids)
    eligible = np.flatnonzero(world.openings.is_open & (world.openings.deadline_ord >= as_of.toordinal()))
    o_rows += _empty_lists(eligible, o2p.group, world.openings.ids)
    return o_rows, top_rows


# ---------------------------------------------------------------------------- recommended now (issue 14)


def employer_rows(world: World) -> tuple[np.ndarray, np.ndarray]:
    """(per opening row: its employer's row, the employers' orgnrs in row order): the index a
    `contacts_left` array is given in."""
    codes, orgnrs = pd.factorize(world.openings.frame["orgnr"], sort=True)
    return codes.astype(np.int64), np.asarray(orgnrs, dtype=object)


def employer_contacts_left(world: World, as_of: dt.date) -> np.ndarray | None:
    """Per employer (rows of `employer_rows(world)`): its `max_contacts_per_month` less the
    contacts of `as_of`'s month so far (`contacts.remaining_contacts`), inf without a cap; None
    when no employer has a cap."""
    history = world.openings.history
    left = contacts.remaining_contacts(history, as_of)
    rows = history.rows_of(employer_rows(world)[1])
    out = np.where(rows >= 0, left[np.maximum(rows, 0)] if len(left) else np.inf, np.inf)
    return None if np.isinf(out).all() else out


@gc_paused()  # millions of small containers (the rows, their JSON) that all survive: see _recommended_rows
def recommend_now(
    world: World,
    parts: list[tuple[np.ndarray, ...]],
    taken: dict[str, int],
    settings: Settings,
    as_of: dt.date,
    *,
    client: Any = None,
    n_jobs: int = 1,
    contacts_left: np.ndarray | None = None,
    pool: _LocalPool | None = None,
    start_rate: float | None = None,
    in_flight: dict[str, float] | None = None,
    write: Callable[[list[tuple[str, str, str]]], None] | None = None,
    in_process: dict[str, int] | None = None,
    consume: bool = False,
) -> tuple[list[tuple[str, str, str]], dict[str, Any]]:
    """The recommended-now step after ranking (matching/allocation.py), one shard per
    participant office, run on the run's backend (`_map`: Dask, the forked pool, or inline).
    By default ("price"), full-length lists with congestion priced per shard
    (`allocation.price_shard_tasks` / `run_price_shard`: each opening's free places split in
    proportion to the shards' expected starts on it, each employer's contacts by D'Hondt; the
    scores calibrated to starts once for the run by the history's `start_rate`; the places split
    are the free places less those spoken for by `in_flight`, the expected starts of the chains
    in flight per opening, `store.outcomes.in_flight`; an opening with no room now —
    places not spoken for at most `alloc_hold_at` — is held back from every list, its note
    saying so with `in_process`, the number of those chains); or ("flow")
    each opening's cap (`alloc_factor` × free places) and each employer's contacts split by
    D'Hondt and a min-cost flow per shard.
    Returns the rows to store and the congestion figures before (personal lists) and after
    (recommended-now lists). With `write`, the rows are handed to it instead, a chunk at a
    time as they are built (the returned list is empty): the parent stores them while the
    workers build the rest. With `consume`, `parts` is emptied once its pairs are placed: the
    refresh's tail then holds them once, not twice (~180 MB of a national run's peak)."""
    w = world
    # price: in participant order, each list in rank order (what the stored rows assume); flow: as the shards came
    group, other, score, pos = _personal_pairs(parts, len(w.participants), ordered=settings.alloc_mode == "price")
    if consume:
        parts.clear()
    free = allocation.free_places(
        w.openings.frame["positions"].to_numpy(np.int64), np.array([taken.get(o, 0) for o in w.openings.ids], dtype=np.int64)
    )
    cap = allocation.caps(free, settings.alloc_factor)
    spoken = np.array([in_flight.get(o, 0.0) for o in w.openings.ids]) if in_flight else np.zeros(len(free))
    eligible = w.openings.is_open & (w.openings.deadline_ord >= as_of.toordinal())
    p_office = w.participants.frame["office_id"].to_numpy()
    o_office = w.openings.frame["office_id"].to_numpy()
    before: dict[str, Any] = {}

    def congestion_before() -> None:  # the personal lists' figures
        before.update(allocation.congestion(group, other, pos, free, eligible, p_office, o_office))

    employer = employer_rows(w)[0] if contacts_left is not None else None
    shard = pd.factorize(p_office, sort=True)[0][group] if len(group) else np.zeros(0, dtype=np.int64)
    held = np.zeros(len(free), dtype=np.int64)  # per opening: held back for want of room (price mode; 0: not)
    if settings.alloc_mode == "price":
        room, not_spoken = _hold_room(free, spoken, settings), allocation.not_spoken_for(free, spoken)
        options = {
            "factor": settings.alloc_start_factor,
            "per_list": settings.recommend_now,
            "depth": settings.alloc_depth,
            "strength": settings.alloc_strength,
            "head": settings.alloc_head,
            "tail": settings.alloc_tail,
            "full_strength": settings.alloc_full_strength,
            "hold_at": settings.alloc_hold_at,
            "room": room,
            "scale": allocation.start_scale(score, pos, start_rate),  # one calibration for the run, not per shard
        }
        keep, place, price = allocation.price_shards(
            group,
            other,
            score,
            pos,
            shard,
            not_spoken,
            mapper=lambda fn, tasks: _imap(fn, tasks, client, n_jobs, pool),
            lazy=True,
            meanwhile=congestion_before,  # while the workers price the first pass's shards
            passes=settings.alloc_passes,
            employer=employer,
            contacts_left=contacts_left,
            **options,
        )
        crowded = (price > 0) | (free[other] == 0)  # priced in the pair's shard, or no place free at all
        no_room = allocation.held_back(room, settings.alloc_hold_at)
        if no_room is not None:  # 1: no free place, 2: every free place spoken for by chains in flight, 3: few free places
            spoken_for = (not_spoken <= settings.alloc_hold_at) & (spoken > 0)
            held = np.where(no_room, np.where(free == 0, 1, np.where(spoken_for, 2, 3)), 0)
    else:
        congestion_before()
        place = pos
        tasks = allocation.shard_tasks(
            group, other, score, pos, shard, cap, per_list=settings.recommend_now, employer=employer, contacts_left=contacts_left
        )
        keep = np.zeros(len(group), dtype=bool)
        for (idx, _), kept in zip(tasks, _map(allocation.run_shard, [t for _, t in tasks], client, n_jobs, pool)):
            keep[idx] = kept
        crowded = allocation.exposure(other, pos, len(free), allocation.PER_LIST)[other] > cap[other]  # more lists than its cap
    chains = np.array([in_process.get(o, 0) for o in w.openings.ids], dtype=np.int64) if in_process else np.zeros(len(free), dtype=np.int64)
    suggested = np.bincount(other[keep], minlength=len(free))
    exposure = allocation.exposure(other, pos, len(free), allocation.PER_LIST)
    noted = keep | (pos < allocation.PER_LIST)
    ids_o, ids_p = w.openings.ids, w.participants.ids
    # Only the noted pairs (kept or among the first PER_LIST) go into a row: packed in chunks
    # of whole participants on the run's backend (a Python loop over every participant).
    sel = np.flatnonzero(noted)
    g, o = group[sel], other[sel]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.zeros(0, dtype=np.int64)
    n_chunks = max(1, min(len(starts), 16 * max(n_jobs, 1) if client is None else 16))
    cut = [i * len(starts) // n_chunks for i in range(n_chunks + 1)]  # lists per chunk
    bounds = np.r_[starts, len(g)]
    # Counts and flags: int32, filled column by column (a stack of int64 columns was ~250 MB
    # nationally, at the tail's peak memory).
    note = np.empty((len(sel), 7), dtype=np.int32)
    for j, col in enumerate((keep[sel], suggested[o], free[o], exposure[o], crowded[sel], held[o], chains[o])):
        note[:, j] = col
    placed = place[sel]
    chunks = (_row_chunk(ids_p[g[starts[a:b]]], bounds[a : b + 1], ids_o, o, note, placed) for a, b in zip(cut[:-1], cut[1:]) if b > a)
    # The forked workers start on them now, a few chunks ahead of the rows stored ...
    built = _imap(_recommended_rows, chunks, client, n_jobs, pool, window=2 * max(n_jobs, 1))
    # ... while this process works out the figures after the allocation.
    # Rank within the recommended-now lists (pairs are in personal-rank order per participant).
    kg = group[keep]
    k_pos = _positions(kg)
    after = allocation.congestion(kg, other[keep], k_pos, free, eligible, p_office, o_office)
    figures = {
        "before": before,
        "after": after,
        "alloc_factor": settings.alloc_factor,
        "recommend_now": settings.recommend_now,
        "alloc_mode": settings.alloc_mode,
        "alloc_start_factor": settings.alloc_start_factor,
        "alloc_strength": settings.alloc_strength,
        "alloc_tail": settings.alloc_tail,
        "alloc_full_strength": settings.alloc_full_strength,
        "alloc_passes": settings.alloc_passes,
        "alloc_hold_at": settings.alloc_hold_at,
        "alloc_hold_basis": settings.alloc_hold_basis,
        "in_flight": allocation.in_flight_figures(free, spoken, eligible),
    }
    if held.any():  # openings with no room now, held back from every list
        listed = np.bincount(other[pos < allocation.PER_LIST], minlength=len(free)) > 0
        figures["held_back"] = {
            "openings": int((listed & (held > 0)).sum()),
            "participants_without_room": int(before["participants_listed"] - after["participants_listed"]),
        }
    rows: list[tuple[str, str, str]] = []
    for part in built:
        if write is not None:  # this chunk's rows stored while the workers build the next ones
            write(part)
        else:
            rows += part
    empty = lists.pack_recommended([], {})
    unlisted = np.ones(len(ids_p), dtype=bool)
    unlisted[g] = False
    rest = [(str(ids_p[i]), *empty) for i in np.flatnonzero(unlisted)]
    if write is not None:
        write(rest)
    else:
        rows += rest
    return rows, figures


def _personal_pairs(
    parts: list[tuple[np.ndarray, ...]], n_participants: int, *, ordered: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The shards' personal lists (participant row, opening row, shown score, 0-based rank) as
    four arrays (int64, float) — concatenated, or with `ordered` in participant order, each list
    in rank order: = a stable sort of their concatenation by (participant, rank), each
    pair placed at its participant's offset + its rank instead (12.7M national pairs: ~0.3
    against ~1.9 s CPU for concatenating, sorting and gathering). Lists that are not whole
    runs of ranks 0, 1, … (never from a shard) are sorted."""
    n = sum(len(p[0]) for p in parts)
    group, other, pos = (np.zeros(n, dtype=np.int64) for _ in range(3))
    score = np.zeros(n)
    if n == 0:
        return group, other, score, pos
    if not ordered:
        for i, out in enumerate((group, other, score, pos)):
            np.concatenate([part[i] for part in parts], out=out)
        return group, other, score, pos
    counts = np.bincount(np.concatenate([p[0] for p in parts]), minlength=n_participants)
    if all(_whole_lists(np.asarray(g), np.asarray(p), counts) for g, _, _, p in parts):
        offset = np.cumsum(counts) - counts
        for g, o, sc, p in parts:
            at = offset[g] + p
            group[at], other[at], score[at], pos[at] = g, o, sc, p
    else:
        g, o, sc, p = (np.concatenate([part[i] for part in parts]) for i in range(4))
        order = np.lexsort((p, g))
        group[:], other[:], score[:], pos[:] = g[order], o[order], sc[order], p[order]
    return group, other, score, pos


def _whole_lists(group: np.ndarray, pos: np.ndarray, counts: np.ndarray) -> bool:
    """Each participant's pairs here are one run with ranks 0, 1, …, as long as all their
    pairs (`counts`): then no other part holds any, and offset + rank places each pair once."""
    if len(group) == 0:
        return True
    if not np.array_equal(pos, _positions(group)):
        return False
    last = np.r_[group[1:] != group[:-1], True]
    return bool(np.array_equal(pos[last] + 1, counts[group[last]]))


def _hold_room(free: np.ndarray, spoken: np.ndarray, settings: Settings) -> np.ndarray:
    """Per opening, what `alloc_hold_at` holds back by (`alloc_hold_basis`)."""
    return allocation.not_spoken_for(free, spoken) if settings.alloc_hold_basis == "not_spoken_for" else free.astype(float)


@dataclass
class _RowChunk:
    """Noted pairs of whole participants, in personal-rank order per participant: each list's
    participant id and where its pairs start (`bounds`, one more than lists, from 0), and per
    pair its opening (a row of `openings`, the chunk's opening ids), the note (kept, suggested,
    free, exposure, crowded, held, in process) and its place in the recommended-now list (its own order).
    Pickled to a worker: ids once per opening of the chunk, numbers as small as they fit."""

    participant: np.ndarray
    bounds: np.ndarray
    openings: np.ndarray
    opening: np.ndarray
    note: np.ndarray
    place: np.ndarray


def _row_chunk(
    participants: np.ndarray, bounds: np.ndarray, opening_ids: np.ndarray, other: np.ndarray, note: np.ndarray, place: np.ndarray
) -> _RowChunk:
    """The chunk of the noted pairs bounds[0]:bounds[-1] (their lists' `bounds`)."""
    a, b = int(bounds[0]), int(bounds[-1])
    rows, codes = np.unique(other[a:b], return_inverse=True)
    small = np.int32 if note[a:b].size == 0 or np.abs(note[a:b]).max() <= np.iinfo(np.int32).max else np.int64
    return _RowChunk(
        participants,
        bounds - a,
        opening_ids[rows],
        codes.reshape(-1).astype(np.int32),
        note[a:b].astype(small),
        place[a:b].astype(np.int16) if b == a or np.abs(place[a:b]).max() <= np.iinfo(np.int16).max else place[a:b],
    )


def _recommended_rows(chunk: _RowChunk) -> list[tuple[str, str, str]]:
    """(participant id, opening ids JSON, notes JSON) per participant of the chunk. With the
    cyclic collector paused: the rows' millions of small containers, all kept, set off
    collections that rescanned the (forked) snapshot's objects — 10.5 of 12.7 CPU s for the
    national 300k lists (benchmarks/RESULTS.md, session 22)."""
    with gc_paused():
        o = [str(x) for x in chunk.openings[chunk.opening].tolist()]
        notes = list(zip(*(chunk.note[:, j].tolist() for j in range(chunk.note.shape[1])))) if len(o) else []
        n = len(chunk.participant)
        of_list = np.repeat(np.arange(n), np.diff(chunk.bounds))
        kept = np.flatnonzero(chunk.note[:, 0]) if len(o) else np.zeros(0, dtype=np.int64)
        kept = kept[np.lexsort((chunk.place[kept], of_list[kept]))]  # per list, in the list's own order
        k_bounds = np.searchsorted(of_list[kept], np.arange(n + 1)).tolist()
        kept_ids = [o[i] for i in kept.tolist()]
        b = chunk.bounds.tolist()
        return [
            (
                str(pid),
                *lists.pack_recommended(kept_ids[k_bounds[i] : k_bounds[i + 1]], dict(zip(o[b[i] : b[i + 1]], notes[b[i] : b[i + 1]]))),
            )
            for i, pid in enumerate(chunk.participant.tolist())
        ]


#: A participant in this many first places of an opening's candidate list is "strongly matched" there.
TOP_CANDIDATES = 3


def top_candidates(o2p: Ranked, opening_ids: np.ndarray, participant_ids: np.ndarray) -> list[tuple[str, str]]:
    """(participant id, JSON array of openings) for each participant in the first
    TOP_CANDIDATES of some opening's (employer-facing) candidate list."""
    top = _positions(o2p.group) < TOP_CANDIDATES
    p, o = o2p.other[top], o2p.group[top]
    order = np.lexsort((o, p))
    p, o = p[order], o[order]
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]]) if len(p) else np.zeros(0, dtype=np.int64)
    return [
        (str(participant_ids[p[a]]), orjson.dumps([str(x) for x in opening_ids[o[a:b]]]).decode())
        for a, b in zip(starts, np.r_[starts[1:], len(p)])
    ]


def _positions(group: np.ndarray) -> np.ndarray:
    """0-based position of each row within its run of equal `group` values."""
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    return np.arange(len(group)) - np.repeat(starts, np.diff(np.r_[starts, len(group)]))


def _progress(enabled: bool, total: int):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), disable=not enabled)
