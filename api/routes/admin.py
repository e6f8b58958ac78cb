"""For data owners and the batch: the audit log and the batch runs."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import Admin, BatchOrAdmin, ConnDep, Limit, Offset
from api.schemas import AuditEntry, Page, Runs
from matching.store import audit, lists, runs

router = APIRouter(prefix="/v1", tags=["admin"])


@router.get("/audit", response_model=Page[AuditEntry], summary="Who read which participant's data, when")
def read_audit(
    principal: Admin,
    conn: ConnDep,
    limit: Limit = 50,
    offset: Offset = 0,
    participant_id: str | None = Query(None, description="only reads of this participant"),
    sub: str | None = Query(None, description="only reads by this token subject"),
):
    """Newest first."""
    items, total = audit.entries(conn, limit=limit, offset=offset, participant_id=participant_id, sub=sub)
    return {"items": items, "total": total}


@router.get("/runs", response_model=Runs, summary="Batch runs, newest first; the served one marked")
def list_runs(principal: BatchOrAdmin, conn: ConnDep, limit: Limit = 50, offset: Offset = 0):
    served = lists.serving(conn)
    serving_id, previous_id = (served.run_id, served.previous_run_id) if served else (None, None)
    rows, total = runs.page(conn, limit=limit, offset=offset)
    items = [{**r, "serving": r["run_id"] == serving_id, "previous": r["run_id"] == previous_id} for r in rows]
    return {"items": items, "total": total, "serving_run_id": serving_id, "previous_run_id": previous_id}
