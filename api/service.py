"""Assembling ranked lists for the routes: from the published batch run, or computed live.

Decisions (documented in the API description too):
- Stored lists are read from the run the `serving` pointer names, minus pairs that no longer
  pass a hard constraint on today's data (opening filled, deadline passed, goal changed…).
  The `kind` filter applies to them as well; the filtered list is re-ranked 1..n. When that
  leaves fewer than min(limit, K) while the stored list was cut at the run's K, the list is
  computed live instead (run_id null), so a filter never hides qualifying openings. A limit
  above K returns the K stored entries; `fresh=true` gives more.
- Before any run is published, the list is computed live (run_id null); so is the list of a
  participant or opening that has none in the served run (e.g. registered since).
- `new_since_last_run` is true when the opening was not on the participant's list in the
  previous published run. With no previous run there is nothing to compare with, and the
  flag is false for every match (it marks change, and a first run changes nothing).
  Live lists (`fresh=true`) compare with the served run's list the same way.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import HTTPException, status
from sqlalchemy import Connection, select

from api import views
from matching import candidates, explain, runtime
from matching.config import Settings
from matching.engine import MatchEngine, Scored, UnknownId
from matching.pairs import Pairs
from matching.scoring import ScoringModel
from matching.store import lists
from matching.store import tables as t
from matching.taxonomy import areas
from matching.world import participants_from_records


def live_engine(settings: Settings, *, caught_up: bool = False, employer: bool = False) -> MatchEngine:
    """`caught_up`: wait for a snapshot at the database's current version however long the
    rebuild takes (a row the served snapshot lacks was asked for). `employer`: the engine
    for an employer-facing answer, never from a snapshot that predates a withdrawn consent."""
    try:
        return runtime.match_engine(settings, wait=runtime.FOREVER if caught_up else None, consent_current=employer)
    except FileNotFoundError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail=f"no trained model available ({exc})") from None


def model_version(settings: Settings) -> str:
    try:
        return runtime.model(settings).version
    except FileNotFoundError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail=f"no trained model available ({exc})") from None


def run_model_version(conn: Connection, run_id: str) -> str:
    return conn.execute(select(t.runs.c.model_version).where(t.runs.c.run_id == run_id)).scalar_one()


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
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} {key!r} not found") from None


def _scored_rows(items: list[Scored], other: str) -> list[dict[str, Any]]:
    return [{other: getattr(s, other), "score": s.score, "raw_score": s.raw_score, "explanation": s.explanation}
            for s in items]


def opening_info(conn: Connection, opening_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not opening_ids:
        return {}
    o, e = t.openings, t.employers
    stmt = (select(o.c.opening_id, o.c.kind, o.c.title, e.c.name.label("employer_name"))
            .join(e, e.c.orgnr == o.c.orgnr).where(o.c.opening_id.in_(opening_ids)))
    return {r.opening_id: dict(r._mapping) for r in conn.execute(stmt)}


def _match_items(conn: Connection, rows: list[dict[str, Any]], kind: str, limit: int, lang: str,
                 previous: set[str] | None) -> list[dict[str, Any]]:
    info = opening_info(conn, [r["opening_id"] for r in rows])
    rows = [r for r in rows if r["opening_id"] in info and (kind == "any" or info[r["opening_id"]]["kind"] == kind)]
    out = []
    for rank, r in enumerate(rows[:limit], start=1):
        o = info[r["opening_id"]]
        out.append({
            "rank": rank, "opening_id": r["opening_id"], "kind": o["kind"], "title": o["title"],
            "employer_name": o["employer_name"], "distance_km": explain.distance_km(r["explanation"]),
            "score": r["score"], "new_since_last_run": previous is not None and r["opening_id"] not in previous,
            "reasons": views.reasons(r["explanation"], lang),
        })
    return out


@lru_cache(maxsize=8)
def _model_version(model_dir: str, version: str) -> ScoringModel:
    return ScoringModel.load(Path(model_dir), version)


def run_model(conn: Connection, settings: Settings, run_id: str) -> ScoringModel | None:
    """The model a run scored with (its levels → contributions), or None if it is gone."""
    try:
        return _model_version(str(settings.model_dir), run_model_version(conn, run_id))
    except FileNotFoundError:
        return None


def stored_rows(conn: Connection, settings: Settings, run_id: str, rows: list[dict[str, Any]], other: str,
                participant_id: str | None = None, opening_id: str | None = None) -> list[dict[str, Any]] | None:
    """The stored rows that still pass every hard constraint, each with its explanation
    rendered from the run's levels and model and today's values. None when the run's model
    is gone, or when an opening's stored list may no longer be shown (`_employer_view_holds`);
    the caller then computes the list live.

    An opening's list (`opening_id` given) is employer-facing: checked and explained on the
    employer view, like the batch that ranked it."""
    model = run_model(conn, settings, run_id)
    if model is None:
        return None
    employer = opening_id is not None
    pids = [participant_id or r[other] for r in rows]
    oids = [opening_id or r[other] for r in rows]
    engine, ok = _eligibility(settings, pids, oids, employer=employer)
    if employer and not _employer_view_holds(conn, run_id, engine):
        return None
    keep = [k for k, good in enumerate(ok) if good]
    if keep:
        pi, oi = engine.world.participants.index, engine.world.openings.index
        explained = engine.explanations([pi[pids[k]] for k in keep], [oi[oids[k]] for k in keep],
                                        np.stack([rows[k]["levels"] for k in keep]), model)
        for k, e in zip(keep, explained):
            rows[k]["explanation"] = e
    return [rows[k] for k in keep]


def _employer_view_holds(conn: Connection, run_id: str, engine: MatchEngine) -> bool:
    """May the run's opening lists still be shown? Only if they were computed on today's home
    areas, and if everyone whose needs they weighed still consents to that — checked for the
    whole run, not per list, so which lists fall back to live reveals nothing about anyone. A
    run from before this was recorded never qualifies. Cached per run on the snapshot."""
    cache = engine.world.__dict__.setdefault("_view_holds", {})
    hit = cache.get(run_id)
    if hit is None:
        recorded = lists.employer_view_of(conn, run_id)
        if recorded is None:
            hit = False
        else:
            fingerprint, weighed = recorded
            hit = fingerprint == areas.fingerprint() and weighed <= engine.world.participants.needs_shared
        cache[run_id] = hit
    return hit


def _eligibility(settings: Settings, participant_ids: list[str], opening_ids: list[str],
                 employer: bool = False) -> tuple[MatchEngine, list[bool]]:
    """The engine (the employer-facing one if `employer`) and, per pair, whether it passes
    every hard constraint on today's data (an opening filled or past its deadline since the
    run, a participant who changed goal or licences)."""
    engine = live_engine(settings, employer=employer)
    pi, oi = engine.world.participants.index, engine.world.openings.index
    if any(p not in pi for p in participant_ids) or any(o not in oi for o in opening_ids):
        engine = live_engine(settings, caught_up=True)  # stored after the snapshot was built
    if employer:
        engine = engine.employer
    pi, oi = engine.world.participants.index, engine.world.openings.index
    known = [k for k, (p, o) in enumerate(zip(participant_ids, opening_ids)) if p in pi and o in oi]
    out = [False] * len(participant_ids)
    if known:
        pairs = Pairs.build(engine.world, [pi[participant_ids[k]] for k in known],
                            [oi[opening_ids[k]] for k in known], engine.as_of.toordinal())
        for k, ok in zip(known, candidates.passes(pairs)):
            out[k] = bool(ok)
    return engine, out


def _run_top_k(conn: Connection, run_id: str) -> int:
    return int(conn.execute(select(t.runs.c.top_k).where(t.runs.c.run_id == run_id)).scalar_one())


def participant_matches(conn: Connection, settings: Settings, participant_id: str, *, kind: str, limit: int,
                        lang: str, fresh: bool) -> dict[str, Any]:
    """The stored list while it still tells the truth; otherwise computed live.

    Served as stored when it fills min(limit, K) after today's constraint check and the kind
    filter, or when nothing dropped out and the stored list was complete (shorter than K).
    A stored list that lost entries since the run, or a kind filter on a list cut at K, is
    recomputed live (run_id null) — "new since last run" then still compares with the run
    before the served one, as for a stored list. With `fresh=true`, or for someone without a
    stored list, it compares with the served run."""
    served = lists.serving(conn)
    run_id = served.run_id if served else ""  # rows is empty, so unused, when nothing is served
    rows = lists.participant_list(conn, run_id, participant_id) if served and not fresh else []
    previous = (lists.openings_in_run(conn, served.previous_run_id, participant_id)
                if served and served.previous_run_id else None)
    eligible = stored_rows(conn, settings, run_id, rows, "opening_id", participant_id=participant_id) if rows else None
    if eligible is not None:
        items = _match_items(conn, eligible, kind, limit, lang, previous)
        top_k = _run_top_k(conn, run_id)
        if len(items) >= min(limit, top_k) or (len(eligible) == len(rows) and len(rows) < top_k):
            return {"participant_id": participant_id, "run_id": run_id,
                    "model_version": run_model_version(conn, run_id), "matches": items}
    elif served and not rows:  # fresh=true, or no stored list for them: compare with what is served
        previous = lists.openings_in_run(conn, run_id, participant_id)
    engine, idx = _index(live_engine(settings), settings, "participant", participant_id)
    scored = engine.recommend(np.array([idx]), kind, k=limit).get(idx, [])
    return {"participant_id": participant_id, "run_id": None, "model_version": engine.model.version,
            "matches": _match_items(conn, _scored_rows(scored, "opening_id"), kind, limit, lang, previous)}


def profile_matches(conn: Connection, settings: Settings, row: dict[str, Any], *, kind: str, limit: int,
                    lang: str) -> dict[str, Any]:
    """Matches for a profile that is not stored: the same engine on a one-participant world."""
    engine = live_engine(settings)
    world = engine.world.with_participants(participants_from_records([row]))
    profile = MatchEngine(world, engine.model, engine.as_of, index=engine.blocking)  # same openings, same index
    items = profile.recommend(np.array([0]), kind, k=limit).get(0, [])
    return {"participant_id": None, "run_id": None, "model_version": engine.model.version,
            "matches": _match_items(conn, _scored_rows(items, "opening_id"), kind, limit, lang, None)}


def pair_explanation(settings: Settings, participant_id: str, opening_id: str, lang: str) -> dict[str, Any]:
    engine, p = _index(live_engine(settings), settings, "participant", participant_id)
    engine, o = _index(engine, settings, "opening", opening_id)
    pair = engine.explain_pair(p, o, lang)
    return {
        "participant_id": pair["participant_id"], "opening_id": pair["opening_id"],
        "model_version": engine.model.version, "eligible": pair["eligible"],
        "failed_constraints": pair["failed_constraints"], "score": pair["score"], "raw_score": pair["raw_score"],
        "intercept": pair["intercept"], "features": views.feature_rows(pair["explanation"], lang),
        "constraints": pair["constraints"],
    }


def opening_candidates(conn: Connection, settings: Settings, opening_id: str, *,
                       limit: int, lang: str, fresh: bool) -> dict[str, Any]:
    """An opening's ranked candidates: employer-facing for every role (the batch ranked them
    on the employer view; a live list is ranked on it too). Advisers and admins read a
    participant's needs and exact distances through the participant endpoints."""
    served = lists.serving(conn)
    served_id = served.run_id if served else ""  # stored is empty, so unused, when nothing is served
    stored = lists.opening_list(conn, served_id, opening_id) if served and not fresh else []
    rows = []
    eligible = stored_rows(conn, settings, served_id, stored, "participant_id", opening_id=opening_id) if stored else None
    if eligible is not None:
        rows = eligible[:limit]
        top_k = _run_top_k(conn, served_id)
        if len(rows) < min(limit, top_k) and (len(eligible) < len(stored) or len(stored) >= top_k):
            rows = []  # thinned since the run: compute live
    if rows:
        run_id, version = served_id, run_model_version(conn, served_id)
    else:
        engine, idx = _index(live_engine(settings, employer=True), settings, "opening", opening_id)
        rows = _scored_rows(engine.candidates(np.array([idx]), k=limit).get(idx, []), "participant_id")
        run_id, version = None, engine.model.version
    candidates = [
        {"rank": rank, "participant_id": r["participant_id"], "score": r["score"],
         "reasons": views.reasons(r["explanation"], lang)}
        for rank, r in enumerate(rows, start=1)
    ]
    return {"opening_id": opening_id, "run_id": run_id, "model_version": version, "candidates": candidates}
