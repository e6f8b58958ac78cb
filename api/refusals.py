"""Refused reads are audited too: who tried what, and what they were told.

One exception handler for every HTTPException, so no route can forget it. A refusal is
written when the caller was authenticated (their principal is on `request.state`, see
`api.deps.RoleBearer`) and the answer is a 403 (wrong role, another office's
opening or participant list), or a 404 about participant data (an unknown participant id
and one outside the caller's offices answer alike, and both are attempts worth a data
owner's eye). The row is committed on its own connection: the request's own transaction
is rolled back with the refusal.
"""

from __future__ import annotations

import logging

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import http_error
from matching import runtime
from matching.store import audit

log = logging.getLogger(__name__)

#: Paths whose 404s are about participant data (the 403s of every path are audited).
PARTICIPANT_PATHS = ("/v1/participants", "/v1/feedback", "/participants/")  # the last: workbench pages


def _target(request: Request) -> tuple[str | None, str | None]:
    params = request.path_params
    pid = params.get("participant_id") or getattr(request.state, "audit_participant", None)
    oid = params.get("opening_id") or getattr(request.state, "audit_opening", None)
    return (str(pid)[:40] if pid else None), (str(oid)[:40] if oid else None)


def _audited(request: Request, status_code: int) -> bool:
    if getattr(request.state, "principal", None) is None:
        return False
    return status_code == 403 or (status_code == 404 and request.url.path.startswith(PARTICIPANT_PATHS))


async def audited_http_exception(request: Request, exc: StarletteHTTPException):
    if _audited(request, exc.status_code):
        route = request.scope.get("route")
        action = f"refused {request.method} {getattr(route, 'path', request.url.path)}"[:60]
        participant_id, opening_id = _target(request)
        try:
            await run_in_threadpool(  # committed before the answer leaves (audit.record_committed)
                audit.record_committed,
                runtime.db(request.app.state.settings),
                request.state.principal,
                action,
                [participant_id] if participant_id else (),
                opening_id=opening_id,
                detail=f"{exc.status_code}: {exc.detail}"[:500],
            )
        except Exception:  # noqa: BLE001 - the refusal stands even if the log is unreachable
            log.exception("could not audit a refused request to %s", request.url.path)
    return await http_error(request, exc)
