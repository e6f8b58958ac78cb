"""Request dependencies as `Annotated` aliases: settings, a DB connection, the caller, and
the role and office checks every route declares in its signature.

Order of checks: token (401) → role (403) → the resource.

- A participant outside the caller's offices answers exactly like one that does not exist:
  404 with the same body ("participant 'X' not found"). Participant ids are personal data,
  so an adviser must not be able to probe which ids exist in other offices.
- Openings are public to every role, so an opening of another office is a 403 (its
  existence is no secret) and an unknown one a 404.

Every refusal (403, and a 404 for participant data) is written to the audit log by
`api.refusals`, from the principal this module leaves on `request.state`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPBearer

from api.auth import InvalidToken, Principal, decode_token
from api.schemas import OpeningIdPath, ParticipantIdPath
from matching import runtime, serving
from matching.config import Settings
from matching.store import Connection, StoreError, openings, participants

log = logging.getLogger(__name__)
T = TypeVar("T")


# Dependencies that only compute (no I/O) are `async def`: FastAPI runs a plain `def`
# dependency in the thread pool, a hop that cost more CPU than the work itself (profiled with
# py-spy under uvicorn: the hops were ~12 % of a stored read). Those that query the database
# stay `def`, off the event loop.


async def get_settings(request: Request) -> Settings:
    """The Settings the app was built with (never the process-global ones)."""
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


@contextmanager
def connection(settings: Settings) -> Iterator[Connection]:
    """A pooled connection (503 if the database cannot be reached); closed on exit."""
    try:
        conn = runtime.db(settings).connect()
    except (OSError, StoreError) as exc:
        log.error("database unavailable: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="database unavailable") from None
    with conn:
        yield conn


def get_conn(request: Request) -> Iterator[Connection]:
    """One connection per request; handlers that write (audit, feedback) commit themselves."""
    with connection(request.app.state.settings) as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(get_conn)]


@dataclass(frozen=True)
class Database:
    """The database of a route that does all its work in one thread-pool call (`in_thread`):
    it opens its connection there (`connect`), so the request crosses to a thread once.

    A sync generator dependency (`ConnDep`) costs two crossings (open, close), a sync
    dependency one more each, and a sync endpoint two (its body, then its response model
    check): ~5 per request on the list endpoints, which cost about as much CPU as a stored
    read itself (`benchmarks/live_asgi.py`)."""

    settings: Settings

    def connect(self) -> AbstractContextManager[Connection]:
        return connection(self.settings)


async def database(request: Request) -> Database:
    """The app's settings are read here, not through `SettingsDep`: FastAPI solves every
    sub-dependency of every dependency on each request, cached or not (see `RoleBearer`)."""
    return Database(request.app.state.settings)


DatabaseDep = Annotated[Database, Depends(database)]


#: Threads of the routes' one crossing, as many as anyio's default limit (Starlette's pool).
THREADS = 40
_pools: dict[int, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    """This process's pool, made on first use: a forked worker never shares its parent's threads."""
    pid = os.getpid()
    pool = _pools.get(pid)
    if pool is None:
        pool = _pools.setdefault(pid, ThreadPoolExecutor(THREADS, thread_name_prefix="route"))
    return pool


async def in_thread(fn: Callable[[], T]) -> T:
    """`fn()` in a thread (it may block on the database): a route's one crossing.

    asyncio's own executor hop, not Starlette's `run_in_threadpool` (anyio: a capacity
    limiter, a cancel scope and run-variable lookups per call): ~25 against ~37 µs of CPU a
    call on an idle loop, and it was 9 % of a worker's GIL time under load (py-spy). The
    context is copied, as anyio does. If the client goes away, the call still runs to its
    end in its thread (a read's audit row is committed all the same)."""
    return await asyncio.get_running_loop().run_in_executor(_pool(), contextvars.copy_context().run, fn)


_BEARER_HELP = "JWT from `matching token --role ROLE [--office ID]`"


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


class RoleBearer(HTTPBearer):
    """The caller, from the bearer token (401 without a valid one), if their role is one of
    `roles` (403 otherwise; any role when `roles` is empty).

    One dependency, not four (bearer → principal with its settings → role check, each a
    dependency of the next): FastAPI solves every node of a route's dependency tree on each
    request, cached or not, its parameters included. Solving the tree was 13 % of a worker's
    GIL samples on a stored read under load (py-spy); with this and `database`, a stored
    read's tree went from 7 nodes to 2 (cProfile: 0.65 → 0.47 s over 303 reads). As an
    `HTTPBearer` named like FastAPI's own, the OpenAPI document declares the same security
    scheme as before on every route that uses it."""

    def __init__(self, *roles: str) -> None:
        super().__init__(auto_error=False, description=_BEARER_HELP, scheme_name="HTTPBearer")
        self.roles = roles

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None:
            raise _unauthorised("not authenticated: send 'Authorization: Bearer <token>'")
        try:  # a token seen before is not verified again, only its expiry checked (api.auth)
            principal = decode_token(credentials.credentials, request.app.state.settings)
        except InvalidToken as exc:
            raise _unauthorised(str(exc)) from None
        request.state.principal = principal  # for auditing a refusal (api.refusals)
        if self.roles and principal.role not in self.roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"role {principal.role!r} may not do this; allowed: {', '.join(self.roles)}"
            )
        return principal


def require_role(*roles: str) -> RoleBearer:
    """A dependency that lets only these roles through (403 otherwise)."""
    return RoleBearer(*roles)


CurrentPrincipal = Annotated[Principal, Depends(RoleBearer())]
AdviserOrAdmin = Annotated[Principal, Depends(require_role("adviser", "admin"))]
LiaisonOrAdmin = Annotated[Principal, Depends(require_role("liaison", "admin"))]
Admin = Annotated[Principal, Depends(require_role("admin"))]
BatchOrAdmin = Annotated[Principal, Depends(require_role("batch", "admin"))]
FeedbackRole = Annotated[Principal, Depends(require_role("adviser", "liaison", "admin"))]
StaffRole = Annotated[Principal, Depends(require_role("adviser", "liaison", "admin"))]


def ensure_office(principal: Principal, office_id: str, what: str) -> None:
    if not principal.covers(office_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"this {what} is outside the offices your token covers")


def participant_not_found(participant_id: str) -> HTTPException:
    """The one answer for a participant id the caller may not know about, whether it exists
    or not (same status, same body)."""
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"participant {participant_id!r} not found")


def participant_or_404(conn: Connection, participant_id: str) -> dict[str, Any]:
    row = participants.get(conn, participant_id)
    if row is None:
        raise participant_not_found(participant_id)
    return row


def participant_in_scope(conn: Connection, principal: Principal, participant_id: str) -> dict[str, Any]:
    """The participant row if it exists and the caller's offices cover it; otherwise the
    same 404 either way."""
    row = participant_or_404(conn, participant_id)
    if not principal.covers(row["office_id"]):
        raise participant_not_found(participant_id)
    return row


def participant_ref_in_scope(conn: Connection, principal: Principal, participant_id: str) -> dict[str, Any]:
    """`participant_in_scope` for a route that needs only the id and office of the row (a
    list read): {"participant_id", "office_id"}, or the same 404."""
    office = participants.office_of(conn, participant_id)
    if office is None or not principal.covers(office):
        raise participant_not_found(participant_id)
    return {"participant_id": participant_id, "office_id": office}


def opening_or_404(conn: Connection, opening_id: str) -> dict[str, Any]:
    row = openings.get(conn, opening_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"opening {opening_id!r} not found")
    return row


@contextmanager
def domain_errors() -> Iterator[None]:
    """Calls into `matching.serving`, its domain errors answered as HTTP: NotFound → 404,
    Unavailable → 503 (raised as HTTPException, so a refused participant read is audited)."""
    try:
        yield
    except serving.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except serving.Unavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from None
    except serving.NoRecommendation as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


def adviser_participant(participant_id: ParticipantIdPath, principal: AdviserOrAdmin, conn: ConnDep) -> dict[str, Any]:
    """The participant row, if the caller is an adviser of its office (or an admin); 404
    otherwise, the same for another office's participant as for an unknown id."""
    return participant_in_scope(conn, principal, participant_id)


def liaison_opening(opening_id: OpeningIdPath, principal: LiaisonOrAdmin, conn: ConnDep) -> dict[str, Any]:
    """The opening row, if the caller is a liaison of its office (or an admin)."""
    row = opening_or_404(conn, opening_id)
    ensure_office(principal, row["office_id"], "opening")
    return row


ParticipantForAdviser = Annotated[dict[str, Any], Depends(adviser_participant)]
OpeningForLiaison = Annotated[dict[str, Any], Depends(liaison_opening)]

# ----------------------------------------------------------------------------- query parameters

Limit = Annotated[int, Query(ge=1, le=1000, description="page size, 1-1000")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="items to skip")]
Lang = Annotated[Literal["nb", "en"], Query(description="language of reason texts: nb (bokmål) or en")]
KindFilter = Annotated[Literal["job", "trial", "any"], Query(description="job, trial (arbeidstrening) or any")]
Fresh = Annotated[bool, Query(description="compute live instead of reading the published batch run")]
View = Annotated[
    Literal["personal", "recommended"],
    Query(
        description=(
            "personal: the participant's own ranking; recommended: the served run's recommended-now list, "
            "in which openings suggested to many others for few free places give way to the next best ones (issue 14)"
        )
    ),
]
