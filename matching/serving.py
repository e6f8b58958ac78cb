"""Serving ranked lists, without HTTP: from the published batch run, or computed live.

`api/` parses a request, calls this module and shapes the answer; this module decides where a
list comes from and assembles it. It raises `NotFound` and `Unavailable`, which the API maps
to 404 and 503. Explanations are the engine's (rendered into reasons by the API's views).

Decisions (documented in the API description too):
- Stored lists are read from the run the `serving` pointer names, minus pairs that no longer
  pass a hard constraint on today's data (opening filled, deadline passed, goal changed…).
  The `kind` filter applies to them as well; the filtered list is re-ranked 1..n. When that
  leaves fewer than min(limit, K) while the stored list was cut at the run's K, the list is
  computed live instead (run_id null), so a filter never hides qualifying openings. A limit
  above K returns the K stored entries; `fresh=true` gives more.
- Before any run is published, the list is computed live (run_id null); so is the list of a
  participant or opening the served run did not rank (e.g. registered since). A run stores a
  list for every participant it ranked and every opening open on its day, an empty one
  included: an empty stored list is served as stored (run_id set, no matches) — "in the run,
  nothing fitted" — and never builds the snapshot. A row exists ⇔ the run covered it; runs
  from before this rule have no empty rows, so their uncovered subjects are computed live.
- `new_since_last_run` is true when the opening was not on the participant's list in the
  previous published run. With no previous run there is nothing to compare with, and the
  flag is false for every match (it marks change, and a first run changes nothing).
  Live lists (`fresh=true`) compare with the served run's list the same way.
- A stored list is read without the national snapshot. A participant's list stores, with
  its levels, every listed opening's kind, title and employer, and the values its first 20
  pairs' reasons quote as the run computed them (`lists.Quoted`, `Settings.quoted_entries`:
  the API's default page is 10, the workbench's 20; a request that shows an entry beyond them
  takes the small-World path). A read serves those, with no World,
  when they are still today's (`_quoted_hold`): the run recorded the data version it read its
  snapshot at, and triggers record per row the version of its last write (`row_changes`,
  `store/versioning.py`), so one indexed query tells whether the participant, a listed
  opening or its employer was written since. If none was, every pair passes the hard
  constraints exactly as in the run — they depend only on those rows and on the day, and the
  only day-dependent one is the deadline: a run made on day D with every listed deadline ≥ D
  stays valid until the earliest listed deadline (stored as `until`) has passed. Values that
  depend on the day (the deadline's days left) are moved to today by the criterion's
  `on_day`. No second implementation of the constraints: either nothing they read changed,
  or the list takes the small-World path below. About 1.7 ms of CPU per read at 300k × 50k.
- Otherwise (a listed row written since the run, a listed deadline passed, today before the
  run's day, a run before quoted values existed, and every opening's list) its own rows (one
  participant and its K openings, or one opening and its K participants) are read by id into
  a small World through the snapshot's own encoding (`store.snapshot.load_world`), with the
  whole snapshot's skill vocabulary, and checked and explained there (~40 ms): a title or a
  distance quoted is then the current one. Only live lists need the snapshot
  (`matching.runtime`).
- An opening's stored list is employer-facing: checked and explained on the employer view of
  that small World, like the batch that ranked it, and shown only while the run's employer
  view still holds (`_employer_view_holds`: today's home areas, and everyone whose needs it
  weighed still consenting, read from the database at its current data version — a
  withdrawn consent retires every stored opening list at once, and they are computed live).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from matching import allocation, candidates, explain, runtime, topk
from matching.config import Settings
from matching.criteria import BY_NAME
from matching.engine import MatchEngine, Scored, UnknownId
from matching.pairs import Pairs
from matching.scoring import ScoringModel
from matching.store import Connection, lists, openings, participants, runs, snapshot, versioning
from matching.taxonomy import areas
from matching.world import World, participants_from_records


class NotFound(LookupError):
    """A participant or opening that does not exist (the API answers 404)."""

    def __init__(self, what: str, key: str):
        super().__init__(what, key)
        self.what, self.key = what, key

    def __str__(self) -> str:
        return f"{self.what} {self.key!r} not found"


class Unavailable(RuntimeError):
    """What the answer needs is missing, e.g. no trained model (the API answers 503)."""


def _no_model(exc: FileNotFoundError) -> Unavailable:
    return Unavailable(f"no trained model available ({exc})")


# ----------------------------------------------------------------------------- live engine


def live_engine(settings: Settings, *, caught_up: bool = False, employer: bool = False, conn: Connection | None = None) -> MatchEngine:
    """`caught_up`: wait for a snapshot at the database's current version however long the
    rebuild takes (a row the served snapshot lacks was asked for). `employer`: the engine
    for an employer-facing answer, never from a snapshot that predates a withdrawn consent.
    `conn`: the request's connection, to read the data version on (no second checkout)."""
    try:
        return runtime.match_engine(settings, wait=runtime.FOREVER if caught_up else None, consent_current=employer, conn=conn)
    except FileNotFoundError as exc:
        raise _no_model(exc) from None


def model_version(settings: Settings) -> str:
    try:
        return runtime.model(settings).version
    except FileNotFoundError as exc:
        raise _no_model(exc) from None


def _index(engine: MatchEngine, settings: Settings, what: str, key: str) -> tuple[MatchEngine, int]:
    """Row index in the snapshot; a row stored after the snapshot was taken forces a reload."""
    lookup = engine.participant_index if what == "participant" else engine.opening_index
    try:
        return engine, lookup(key)
    except UnknownId:  # stored after the snapshot was built
        engine = live_engine(settings, caught_up=True)
        lookup = engine.participant_index if what == "participant" else engine.opening_index
        try:
            return engine, lookup(key)
        except UnknownId:
            raise NotFound(what, key) from None


def _scored_rows(items: list[Scored], other: str) -> list[dict[str, Any]]:
    return [{other: getattr(s, other), "score": s.score, "raw_score": s.raw_score, "explanation": s.explanation} for s in items]


def similar_key(orgnr: str, kind: str, levels: Iterable[int]) -> tuple[Any, ...]:
    """Openings an adviser cannot tell apart by the evidence: one employer, one kind, the same
    level of every criterion (so the same score and the same reasons)."""
    if isinstance(levels, np.ndarray):  # a stored or live row's levels: one conversion, not one per level
        return (orgnr, kind, tuple(levels.tolist()))
    return (orgnr, kind, tuple(int(x) for x in levels))


def _levels(row: dict[str, Any]) -> Iterable[int]:
    """A row's level per criterion: stored with a stored row, in its explanation otherwise."""
    return row["levels"] if "levels" in row else (f.level for f in row["explanation"].features.values())


def _match_items(
    conn: Connection,
    rows: list[dict[str, Any]],
    kind: str,
    limit: int,
    previous: set[str] | None,
    explain_rows: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]] | None:
    """Ranked openings 1..n of `kind`, each with its explanation (the API renders the reasons).
    Rows explained from a stored list's quoted values carry their opening's summary already;
    `explain_rows`, if given, adds the explanation to the rows shown that lack one (a live list's);
    None when an entry to be shown still has none (past the quoted values' first pairs).

    Openings at one employer alike on every criterion are one entry (`topk.similar`): the
    best-ranked stands for them and lists the others under `similar_openings`, in rank order.
    Ranks and ties count entries, so a tie left is one between things that differ somewhere."""
    info = openings.summaries(conn, [r["opening_id"] for r in rows if "opening" not in r])
    info.update((r["opening_id"], r["opening"]) for r in rows if "opening" in r)
    rows = [r for r in rows if r["opening_id"] in info and (kind == "any" or info[r["opening_id"]]["kind"] == kind)]
    groups = topk.similar([similar_key(info[r["opening_id"]]["orgnr"], info[r["opening_id"]]["kind"], _levels(r)) for r in rows])[:limit]
    if explain_rows is not None:
        explain_rows([rows[g[0]] for g in groups if "explanation" not in rows[g[0]]])
    if any("explanation" not in rows[g[0]] for g in groups):
        return None
    out = []
    for rank, (group, tie) in enumerate(zip(groups, topk.tied([rows[g[0]]["score"] for g in groups])), start=1):
        r = rows[group[0]]
        o = info[r["opening_id"]]
        out.append(
            {
                "rank": rank,
                "opening_id": r["opening_id"],
                "kind": o["kind"],
                "title": o["title"],
                "employer_name": o["employer_name"],
                "distance_km": explain.distance_km(r["explanation"]),
                "score": _shown(r["score"]),
                "tied_with_previous": tie,
                "new_since_last_run": previous is not None and r["opening_id"] not in previous,
                "similar_openings": [
                    {"opening_id": rows[j]["opening_id"], "title": info[rows[j]["opening_id"]]["title"]} for j in group[1:]
                ],
                "explanation": r["explanation"],
            }
        )
    return out


def _live_match_items(
    conn: Connection, engine: MatchEngine, idx: int, kind: str, limit: int, top_k: int, previous: set[str] | None
) -> list[dict[str, Any]]:
    """`limit` entries computed live, from the best max(limit, `top_k`) openings — what a run
    stores (`top_k`: its K) — so that similar openings group exactly as in a stored list.
    Only the entries shown are explained (`MatchEngine.listed`)."""
    listed = engine.listed(idx, kind, k=max(limit, top_k))
    ow, o = engine.world.openings, listed.opening_rows()
    levels = listed.features.levels
    # each summary column gathered once for the whole list (not one lookup per opening and column)
    names = ("kind", "title", "employer_name", "orgnr")
    columns = [ow.col(k)[o].tolist() for k in names]
    rows = []
    for pos, (oid, score, *summary) in enumerate(zip(ow.ids[o].tolist(), listed.score.tolist(), *columns)):
        opening = {"opening_id": oid, **dict(zip(names, summary))}
        rows.append({"opening_id": oid, "score": score, "levels": levels[pos], "opening": opening, "_pos": pos})

    def explain_rows(shown: list[dict[str, Any]]) -> None:
        if not shown:
            return
        for r, scored in zip(shown, listed.explain([r["_pos"] for r in shown])):
            r["explanation"] = scored.explanation

    items = _match_items(conn, rows, kind, limit, previous, explain_rows)
    assert items is not None  # every row shown is explained
    return items


def _shown(score: float) -> float:
    """A score as listed: topk.SCORE_DECIMALS decimals, the precision lists are ranked by."""
    return float(topk.shown(np.asarray([score]))[0])


# ----------------------------------------------------------------------------- stored lists


@lru_cache(maxsize=8)
def _model_version(model_dir: str, version: str) -> ScoringModel:
    return ScoringModel.load(Path(model_dir), version)


def run_model(conn: Connection, settings: Settings, run_id: str) -> ScoringModel | None:
    """The model a run scored with (its levels → contributions), or None if it is gone."""
    try:
        return _model_version(str(settings.model_dir), run_facts(conn, settings, run_id).model_version)
    except FileNotFoundError:
        return None


@dataclass
class _AtVersion:
    """What stored reads need of the whole database, at one data version: the snapshot's skill
    vocabulary and whose needs may be shared (each read on first use), and per run whether its
    employer view holds. A write to participants, openings or employers moves the version."""

    version: int
    vocab: dict[str, int] | None = None
    sharing: frozenset[str] | None = None
    holds: dict[str, bool] = field(default_factory=dict)


_cache_lock = threading.Lock()
_cache: dict[str, _AtVersion] = {}


def _at_version(conn: Connection, settings: Settings) -> _AtVersion:
    version = versioning.current(conn)
    with _cache_lock:
        hit = _cache.get(settings.database_url)
        if hit is None or hit.version != version:
            hit = _cache[settings.database_url] = _AtVersion(version)
    return hit


def _skill_vocab(conn: Connection, state: _AtVersion) -> dict[str, int]:
    if state.vocab is None:
        state.vocab = snapshot.skill_vocab_of(conn)
    return state.vocab


def _employer_view_holds(conn: Connection, state: _AtVersion, run_id: str) -> bool:
    """May the run's opening lists still be shown? Only if they were computed on today's home
    areas, and if everyone whose needs they weighed still consents to that — checked for the
    whole run, not per list, so which lists fall back to live reveals nothing about anyone. A
    run from before this was recorded never qualifies. Cached per run and data version."""
    hit = state.holds.get(run_id)
    if hit is None:
        recorded = lists.employer_view_of(conn, run_id)
        if recorded is None:
            hit = False
        else:
            fingerprint, weighed = recorded
            if state.sharing is None:
                state.sharing = participants.sharing_needs(conn)
            hit = fingerprint == areas.fingerprint() and weighed <= state.sharing
        state.holds[run_id] = hit
    return hit


def _stored_world(conn: Connection, state: _AtVersion, participant_ids: list[str], opening_ids: list[str], employer: bool) -> World:
    """Just these rows, encoded as the snapshot encodes them (the employer view if `employer`)."""
    world = snapshot.load_world(conn, sorted(set(participant_ids)), sorted(set(opening_ids)), skill_vocab=_skill_vocab(conn, state))
    return world.employer_view if employer else world


_facts_lock = threading.Lock()
_facts_cache: dict[tuple[str, str], runs.Facts] = {}


def run_facts(conn: Connection, settings: Settings, run_id: str) -> runs.Facts:
    """A run's model version, K, day and data version: written once, so cached per run."""
    key = (settings.database_url, run_id)
    hit = _facts_cache.get(key)
    if hit is None:
        hit = runs.facts(conn, run_id)
        with _facts_lock:
            if len(_facts_cache) > 64:
                _facts_cache.clear()
            _facts_cache[key] = hit
    return hit


def _quoted_hold(
    conn: Connection, settings: Settings, run_id: str, participant_id: str, rows: list[dict[str, Any]], quoted: lists.Quoted | None
) -> bool:
    """May a participant's stored list be served from its quoted values, without a World?
    Only if the run stored them and its data version, today is not before the run's day and
    no listed deadline has passed (the only hard constraint that moves with the day), and none
    of the list's rows — the participant, the listed openings, their employers — was written
    since the run read its snapshot (`versioning.changed_since`). Then every pair passes the
    hard constraints as it did in the run, and the run's values are today's values."""
    if quoted is None or len(quoted.openings.get("orgnr", ())) != len(rows):
        return False
    facts = run_facts(conn, settings, run_id)
    today = settings.as_of().toordinal()
    if facts.data_version is None or today < facts.as_of.toordinal() or (quoted.until is not None and quoted.until < today):
        return False
    return not versioning.changed_since(
        conn,
        facts.data_version,
        participants=[participant_id],
        openings=[r["opening_id"] for r in rows],
        employers=quoted.openings["orgnr"],
    )


def _from_quoted(
    rows: list[dict[str, Any]], quoted: lists.Quoted, model: ScoringModel, day: int, as_of: int, shown: tuple[str, int] | None = None
) -> list[dict[str, Any]]:
    """The stored rows with the listed openings' summaries, explained from their quoted values
    (moved to `day` where a criterion's values depend on it). Only rows the run quoted values
    for (the first `quoted.n_explained()`) can be explained; `shown` = (kind, limit): only the
    rows that head the entries a list of that kind cut at limit shows (`_match_items`: the kind
    filter, similar openings grouped) — a stored list holds the run's K, 50 by default, and a
    read shows 10: explaining all was most of a read's CPU. A shown entry left unexplained
    (past the quoted values) makes `_match_items` ask for the small World."""
    criteria = [BY_NAME[c] for c in model.criteria]
    o = quoted.openings
    for r, kind, title, employer, orgnr in zip(rows, o["kind"], o["title"], o["employer_name"], o["orgnr"]):
        r["opening"] = {"opening_id": r["opening_id"], "kind": kind, "title": title, "employer_name": employer, "orgnr": orgnr}
    n = quoted.n_explained()
    if shown is None:
        wanted = list(range(min(n, len(rows))))
    else:
        kind, limit = shown
        of_kind = [i for i, k in enumerate(o["kind"]) if kind in ("any", k)]
        groups = topk.similar([similar_key(o["orgnr"][i], o["kind"][i], rows[i]["levels"]) for i in of_kind])[:limit]
        wanted = [of_kind[g[0]] for g in groups if of_kind[g[0]] < n]
    if not wanted:
        return rows
    levels = np.stack([rows[i]["levels"] for i in wanted]).astype(np.int64)
    contrib = model.contributions(levels)
    per_criterion: list[list[Mapping[str, Any]]] = []  # criterion → one values mapping per wanted row
    for c in criteria:
        column = quoted.values[c.name]
        names, columns = list(column), list(column.values())
        values: list[Mapping[str, Any]] = [dict(zip(names, [col[i] for col in columns])) for i in wanted]
        if c.on_day is not None and day != as_of:
            values = [c.on_day(v, day) for v in values]
        per_criterion.append(values)
    for w, (i, lv, co) in enumerate(zip(wanted, levels.tolist(), contrib.tolist())):
        features = {c.name: explain.FeatureExplanation(lv[j], co[j], per_criterion[j][w]) for j, c in enumerate(criteria)}
        rows[i]["explanation"] = explain.Explanation(model.intercept, features, model.weak_below)
    return rows


def stored_rows(
    conn: Connection,
    settings: Settings,
    run_id: str,
    rows: list[dict[str, Any]],
    other: str,
    participant_id: str | None = None,
    opening_id: str | None = None,
    quoted: lists.Quoted | None = None,
    shown: tuple[str, int] | None = None,
) -> list[dict[str, Any]] | None:
    """The stored rows that still pass every hard constraint, each with its explanation
    rendered from the run's levels and model and today's values. None when the run's model
    is gone, or when an opening's stored list may no longer be shown (`_employer_view_holds`);
    the caller then computes the list live.

    A participant's list with `quoted` values that still hold (`_quoted_hold`) is explained
    from them — the rows the values cover and, with `shown` = (kind, limit), only those a list of
    that kind cut at limit shows (`_from_quoted`); the others carry their opening's summary
    only. Otherwise (and for an opening's list), or with `quoted` None, the rows are read into a
    small World, checked and explained there. An opening's list (`opening_id` given) is
    employer-facing: checked and explained on the employer view, like the batch that ranked it."""
    model = run_model(conn, settings, run_id)
    if model is None:
        return None
    employer = opening_id is not None
    if employer:
        state = _at_version(conn, settings)
        if not _employer_view_holds(conn, state, run_id):
            return None
    if not rows:
        return []
    if participant_id is not None and _quoted_hold(conn, settings, run_id, participant_id, rows, quoted):
        assert quoted is not None
        today, run_day = settings.as_of().toordinal(), run_facts(conn, settings, run_id).as_of.toordinal()
        return _from_quoted(rows, quoted, model, today, run_day, shown)
    state = _at_version(conn, settings)
    pids = [participant_id or r[other] for r in rows]
    oids = [opening_id or r[other] for r in rows]
    world = _stored_world(conn, state, pids, oids, employer)
    as_of = settings.as_of()
    pi, oi = world.participants.index, world.openings.index
    known = [k for k, (p, o) in enumerate(zip(pids, oids)) if p in pi and o in oi]  # not deleted since
    if not known:
        return []
    pairs = Pairs.build(world, [pi[pids[k]] for k in known], [oi[oids[k]] for k in known], as_of.toordinal())
    keep = [k for k, ok in zip(known, candidates.passes(pairs)) if ok]
    if keep:
        engine = MatchEngine(world, model, as_of)
        explained = engine.explanations(
            [pi[pids[k]] for k in keep], [oi[oids[k]] for k in keep], np.stack([rows[k]["levels"] for k in keep]), model
        )
        for k, e in zip(keep, explained):
            rows[k]["explanation"] = e
    return [rows[k] for k in keep]


# ----------------------------------------------------------------------------- the lists


class NoRecommendation(LookupError):
    """No recommended-now list to serve: nothing published, the participant is not in the
    served run, or the run predates issue 14 (the API answers 409)."""

    def __str__(self) -> str:
        return "no recommended-now list for this participant in the served run; ask for view=personal"


def _with_notes(items: list[dict[str, Any]], recommended: lists.Recommended | None) -> list[dict[str, Any]]:
    """Each match's `allocation` note from the run's recommended-now step (None: no note)."""
    notes = recommended.notes if recommended is not None else {}
    for item in items:
        item["allocation"] = notes.get(item["opening_id"])
    return items


_ADDED = ("explanation", "opening")  # what explaining a stored row adds to it


def _stored_items(
    conn: Connection,
    settings: Settings,
    run_id: str,
    participant_id: str,
    stored: lists.StoredList,
    kind: str,
    limit: int,
    previous: set[str] | None,
    only: set[str] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """A stored list's rows that still pass today (`stored_rows`) and the entries shown from
    them (`_match_items`; of the openings in `only`, if given), or None when the list may not
    be served as stored. Explained from the run's quoted values; when an entry to be shown lies
    past them, the whole list is explained on a small World instead."""
    tries = (stored.quoted, None) if stored.quoted is not None else (None,)
    for quoted in tries:
        # a second try starts from the stored rows as read, without what the first one added
        rows = stored.rows if quoted is not None else [{k: v for k, v in r.items() if k not in _ADDED} for r in stored.rows]
        shown = (kind, limit) if only is None else None
        eligible = stored_rows(conn, settings, run_id, rows, "opening_id", participant_id=participant_id, quoted=quoted, shown=shown)
        if eligible is None:
            return None
        items = _match_items(conn, eligible if only is None else [r for r in eligible if r["opening_id"] in only], kind, limit, previous)
        if items is not None:
            return eligible, items
    raise AssertionError("a list explained on a small World has every row explained")


def recommended_matches(conn: Connection, settings: Settings, participant_id: str, *, kind: str, limit: int) -> dict[str, Any]:
    """The served run's recommended-now list (issue 14): the participant's stored rows that the
    allocation kept, in the recommended-now list's own order (its allocation's ranking, which
    demotes congested openings), minus pairs that fail a hard constraint today (never
    recomputed live: an allocation is the run's, over everyone's lists at once). `rank` is
    the place in this list. `held_back`: the best fits of the personal top 10 the run held back
    for want of room (no free place; `allocation.held_back`), in personal order, never among
    `matches`; `room`: `allocation.room_state`, set when that left the list short or empty."""
    served = lists.serving(conn)
    if served is None:
        raise NoRecommendation(participant_id)
    stored = lists.read_participant_list(conn, served.run_id, participant_id)
    recommended = lists.read_recommended(conn, served.run_id, participant_id)
    if stored is None or recommended is None:
        raise NoRecommendation(participant_id)
    previous = lists.openings_in_run(conn, served.previous_run_id, participant_id) if served.previous_run_id else None
    order = {o: i for i, o in enumerate(recommended.opening_ids)}
    # the best fits held back for want of room (in personal order): shown apart, never as recommended now
    held = {o: i for i, (o, note) in enumerate(recommended.notes.items()) if note.held and not note.kept}
    got = _stored_items(conn, settings, served.run_id, participant_id, stored, kind, max(limit, len(order)), previous, only=set(order))
    if got is None:
        raise NoRecommendation(participant_id)
    items = sorted(got[1], key=lambda item: order[item["opening_id"]])[:limit]
    for rank, item in enumerate(items, start=1):
        item["rank"] = rank
    # apart, so that a held-back opening never groups a recommended one under it as a similar opening
    apart = (
        _stored_items(conn, settings, served.run_id, participant_id, stored, kind, max(limit, len(held)), previous, only=set(held))
        if held
        else None
    )
    full = sorted(apart[1], key=lambda item: held[item["opening_id"]])[:limit] if apart is not None else []
    for rank, item in enumerate(full, start=1):
        item["rank"] = rank
    facts = run_facts(conn, settings, served.run_id)
    return {
        "participant_id": participant_id,
        "run_id": served.run_id,
        "model_version": facts.model_version,
        "view": "recommended",
        "matches": _with_notes(items, recommended),
        "room": allocation.room_state(recommended.opening_ids, recommended.notes, settings.recommend_now),
        "held_back": _with_notes(full, recommended),
    }


def participant_matches(conn: Connection, settings: Settings, participant_id: str, *, kind: str, limit: int, fresh: bool) -> dict[str, Any]:
    """The stored list while it still tells the truth; otherwise computed live.

    Served as stored when it fills min(limit, K) after today's constraint check and the kind
    filter, or when nothing dropped out and the stored list was complete (shorter than K).
    A stored list that lost entries since the run, or a kind filter on a list cut at K, is
    recomputed live (run_id null) — "new since last run" then still compares with the run
    before the served one, as for a stored list. With `fresh=true`, or for someone without a
    stored list, it compares with the served run.

    Matches carry their `explanation`; the caller renders it."""
    if fresh:  # compares with the served run's list (one round trip)
        (served, previous), stored, recommended = lists.fresh_read(conn, participant_id), None, None
    else:
        served, stored, previous, recommended = lists.participant_read(conn, participant_id)  # one round trip
    run_id = served.run_id if served else ""  # stored is None, so unused, when nothing is served
    got = _stored_items(conn, settings, run_id, participant_id, stored, kind, limit, previous) if stored is not None else None
    if stored is not None and got is not None:
        rows = stored.rows
        eligible, items = got
        facts = run_facts(conn, settings, run_id)
        # whole: nothing dropped since the run, and the run's list is every candidate or, of
        # any kind, the best K (similar openings share an entry, so K openings can be fewer
        # than K entries; a live list groups its best max(limit, K) the same way)
        whole = len(eligible) == len(rows) and (len(rows) < facts.top_k or kind == "any")
        if len(items) >= min(limit, facts.top_k) or whole:
            items = _with_notes(items, recommended)
            return {"participant_id": participant_id, "run_id": run_id, "model_version": facts.model_version, "matches": items}
    elif served and stored is None and not fresh:  # not in the served run: compare with what is served
        previous = lists.openings_in_run(conn, run_id, participant_id)
    engine, idx = _index(live_engine(settings, conn=conn), settings, "participant", participant_id)
    return {
        "participant_id": participant_id,
        "run_id": None,
        "model_version": engine.model.version,
        "matches": _live_match_items(conn, engine, idx, kind, limit, settings.top_k, previous),
    }


def profile_matches(conn: Connection, settings: Settings, row: dict[str, Any], *, kind: str, limit: int) -> dict[str, Any]:
    """Matches for a profile that is not stored: the same engine on a one-participant world."""
    engine = live_engine(settings, conn=conn)
    world = engine.world.with_participants(participants_from_records([row]))
    profile = MatchEngine(world, engine.model, engine.as_of, index=engine.blocking)  # same openings, same index
    return {
        "participant_id": None,
        "run_id": None,
        "model_version": engine.model.version,
        "matches": _live_match_items(conn, profile, 0, kind, limit, settings.top_k, None),
    }


def pair_explanation(settings: Settings, participant_id: str, opening_id: str, lang: str) -> dict[str, Any]:
    """One pair scored live: every feature's level and contribution (`explanation`) and any
    hard constraint it fails, with reasons in `lang`."""
    engine, p = _index(live_engine(settings), settings, "participant", participant_id)
    engine, o = _index(engine, settings, "opening", opening_id)
    pair = engine.explain_pair(p, o, lang)
    return {
        "participant_id": pair["participant_id"],
        "opening_id": pair["opening_id"],
        "model_version": engine.model.version,
        "eligible": pair["eligible"],
        "failed_constraints": pair["failed_constraints"],
        "score": pair["score"],
        "raw_score": pair["raw_score"],
        "intercept": pair["intercept"],
        "explanation": pair["explanation"],
        "constraints": pair["constraints"],
    }


def opening_candidates(conn: Connection, settings: Settings, opening_id: str, *, limit: int, fresh: bool) -> dict[str, Any]:
    """An opening's ranked candidates: employer-facing for every role (the batch ranked them
    on the employer view; a live list is ranked on it too). Advisers and admins read a
    participant's needs and exact distances through the participant endpoints.

    Candidates carry their `explanation`; the caller renders it."""
    served = lists.serving(conn)
    served_id = served.run_id if served else ""  # stored is empty, so unused, when nothing is served
    read = lists.read_opening_list(conn, served_id, opening_id) if served and not fresh else None
    stored = read.rows if read is not None else []
    rows: list[dict[str, Any]] | None = None  # None: compute live
    eligible = stored_rows(conn, settings, served_id, stored, "participant_id", opening_id=opening_id) if read is not None else None
    if eligible is not None:
        rows = eligible[:limit]
        facts = run_facts(conn, settings, served_id)
        if len(rows) < min(limit, facts.top_k) and (len(eligible) < len(stored) or len(stored) >= facts.top_k):
            rows = None  # thinned since the run: compute live
    if rows is not None:
        run_id, version = served_id, run_facts(conn, settings, served_id).model_version
    else:
        engine, idx = _index(live_engine(settings, employer=True, conn=conn), settings, "opening", opening_id)
        rows = _scored_rows(engine.candidates(np.array([idx]), k=limit).get(idx, []), "participant_id")
        run_id, version = None, engine.model.version
    # Issue 14: in the first places of another opening's candidate list in the same run — from
    # the run's employer-facing lists only, and only when this list is the run's (whose employer
    # view still holds); a live list has no mark (None).
    elsewhere = lists.top_placements(conn, run_id, [r["participant_id"] for r in rows]) if run_id else None
    items = [
        {
            "rank": rank,
            "participant_id": r["participant_id"],
            "score": _shown(r["score"]),
            "tied_with_previous": tie,
            "matched_elsewhere": None if elsewhere is None else any(o != opening_id for o in elsewhere.get(r["participant_id"], ())),
            "explanation": r["explanation"],
        }
        for rank, (r, tie) in enumerate(zip(rows, topk.tied([r["score"] for r in rows])), start=1)
    ]
    return {"opening_id": opening_id, "run_id": run_id, "model_version": version, "candidates": items}
