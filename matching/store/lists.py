"""Read side of the published match lists (the batch in `matching.batch` writes them).

A list row is one ranked pair of a run: `rank` (1-based), the other side's id, `score`,
`raw_score` and the JSON `explanation` the reasons are rendered from. Only the run the
`serving` pointer names is served; the previous one is kept for "new since last run".
"""
from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Connection, select

from matching.store import tables as t


class Serving(NamedTuple):
    run_id: str
    previous_run_id: str | None


def serving(conn: Connection) -> Serving | None:
    """The served run and the one it replaced, or None before the first published run."""
    row = conn.execute(select(t.serving.c.run_id, t.serving.c.previous_run_id).where(t.serving.c.id == 1)).first()
    return None if row is None else Serving(row.run_id, row.previous_run_id)


def participant_list(conn: Connection, run_id: str, participant_id: str) -> list[dict[str, Any]]:
    """A participant's ranked openings in a run, best first."""
    pm = t.participant_matches
    stmt = (select(pm.c.rank, pm.c.opening_id, pm.c.score, pm.c.raw_score, pm.c.explanation)
            .where(pm.c.run_id == run_id, pm.c.participant_id == participant_id).order_by(pm.c.rank))
    return [dict(r._mapping) for r in conn.execute(stmt)]


def opening_list(conn: Connection, run_id: str, opening_id: str) -> list[dict[str, Any]]:
    """An opening's ranked participants in a run, best first."""
    oc = t.opening_candidates
    stmt = (select(oc.c.rank, oc.c.participant_id, oc.c.score, oc.c.raw_score, oc.c.explanation)
            .where(oc.c.run_id == run_id, oc.c.opening_id == opening_id).order_by(oc.c.rank))
    return [dict(r._mapping) for r in conn.execute(stmt)]


def openings_in_run(conn: Connection, run_id: str, participant_id: str) -> set[str]:
    """The openings on a participant's list in a run (empty if the participant had none)."""
    pm = t.participant_matches
    stmt = select(pm.c.opening_id).where(pm.c.run_id == run_id, pm.c.participant_id == participant_id)
    return set(conn.execute(stmt).scalars())
