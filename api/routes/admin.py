"""For data owners and the batch: the audit log, the batch runs and the fairness report."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import Admin, BatchOrAdmin, ConnDep, Limit, Offset, SettingsDep
from api.schemas import AuditEntry, FairnessReport, Page, Runs
from matching import fairness, registry
from matching.schema import ID_PATTERN
from matching.scoring import ScoringModel
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


@router.get("/reports/fairness", response_model=FairnessReport, summary="Exposure, list quality and outcomes by group of participants")
def fairness_report(
    principal: Admin,
    conn: ConnDep,
    settings: SettingsDep,
    model: str | None = Query(
        None, pattern=ID_PATTERN, max_length=40, description="a saved model version: its lists on today's data; default the served run"
    ),
):
    """By age band, adaptation needs (any; each category), Norwegian level, driving licence,
    urban or rural home and office (`matching/fairness.py`). Cells resting on fewer than 10
    participants are suppressed (null, named in `suppressed`), and so is a complementary cell
    that would let a reader subtract one back. The read is audited."""
    try:
        if model is None:
            rep = fairness.served_run_report(conn)
        else:
            registry.card(settings.model_dir, model)
            rep = fairness.model_report(conn, ScoringModel.load(settings.model_dir, model), settings.as_of())
    except fairness.NothingToReport as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except (registry.RegistryError, FileNotFoundError, ValueError, KeyError):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no servable model version {model!r}") from None
    audit.record(conn, principal, "read_fairness_report", detail=json.dumps(rep["source"]))
    conn.commit()
    return rep
