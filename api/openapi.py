"""The OpenAPI document, completed: every error status an operation can answer, with its JSON body.

FastAPI documents what a route declares (its 2xx model and a 422). The other statuses come from
layers the route does not see (the token and role dependencies, the database, the request
limits), so they are added here, derived from each route itself:

| status | when | operations |
|---|---|---|
| 401 | missing/invalid/expired token | every operation with a security requirement |
| 403 | wrong role or office | operations depending on a role check (`api.deps.require_role`) |
| 404 | unknown id | operations with path parameters, and those listed in `EXTRA` |
| 409 | duplicate | listed in `EXTRA` |
| 413 | request body over `MATCHING_MAX_BODY_BYTES` | operations with a request body |
| 422 | invalid input, `detail` a list naming each field | operations with parameters or a body |
| 429 | over the caller's rate limit (`Retry-After`) | every `/v1` operation |
| 503 | database unavailable, no trained model | operations that use the database (`api.deps.get_conn` or `api.deps.database`) |
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from api.deps import RoleBearer

REF = "#/components/schemas/{model}"


class Error(BaseModel):
    """Every error other than invalid input."""

    detail: str = Field(description="what went wrong, in English")


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="where: 'body', 'query', 'path' or 'header', then the field")
    msg: str
    type: str
    input: Any = Field(default=None, description="the offending value, shortened (absent when missing)")


class ValidationErrors(BaseModel):
    """422: one item per invalid field."""

    detail: list[ValidationIssue]


#: Statuses an operation's own logic raises that cannot be derived from its signature.
EXTRA: dict[tuple[str, str], dict[int, str]] = {
    ("post", "/v1/feedback"): {404: "unknown participant or opening", 409: "this very event (pair, event, time) is already recorded"},
    ("get", "/v1/reports/fairness"): {404: "no published run is served yet, or no such model version"},
    ("get", "/v1/participants/{participant_id}/matches"): {
        400: "view=recommended with fresh=true",
        409: "view=recommended, and the served run has no recommended-now list for this participant",
    },
}

_DESCRIPTIONS = {
    401: "missing, invalid or expired token",
    403: "your role or offices do not allow this",
    404: "not found",
    413: "request body too large",
    422: "invalid input: `detail` names each field",
    429: "too many requests from this caller: retry after `Retry-After` seconds",
    503: "database unavailable, or no trained model for live matching",
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def _checks_role(route: APIRoute) -> bool:
    return any(isinstance(call, RoleBearer) and call.roles for call in _calls(route.dependant))


def _uses_database(route: APIRoute) -> bool:
    """Needs a connection (503 when the database is unreachable; live matching's 503 for a
    missing model is on such routes too)."""
    return any(getattr(call, "__qualname__", "") in ("get_conn", "database") for call in _calls(route.dependant))


def _error_response(code: int, description: str) -> dict[str, Any]:
    model = "ValidationErrors" if code == 422 else "Error"
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": {"$ref": REF.format(model=model)}}}}
    if code == 401:
        response["headers"] = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}
    if code == 429:
        response["headers"] = {
            "Retry-After": {"description": "seconds to wait", "required": True, "schema": {"type": "integer", "minimum": 1}}
        }
    return response


def complete(routers: Iterable[APIRouter], document: dict[str, Any]) -> dict[str, Any]:
    """Add the error statuses and their schemas to a generated document (in place). `routers`:
    those the app includes without a further prefix (their routes' paths are the document's)."""
    _, defs = models_json_schema([(m, "serialization") for m in (Error, ValidationErrors)], ref_template=REF)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(defs.get("$defs", {}))
    routes = {
        (method.lower(), route.path_format): route
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            route = routes.get((method, path))
            if route is None:  # /healthz declares its own 503; /docs, /metrics are not in the document
                continue
            codes: dict[int, str] = {}
            if operation.get("security"):
                codes[401] = _DESCRIPTIONS[401]
            if _checks_role(route):
                codes[403] = _DESCRIPTIONS[403]
            if "{" in path:
                codes[404] = _DESCRIPTIONS[404]
            codes |= EXTRA.get((method, path), {})
            if "requestBody" in operation:
                codes[413] = _DESCRIPTIONS[413]
            if operation.get("parameters") or "requestBody" in operation:
                codes[422] = _DESCRIPTIONS[422]
            if path.startswith("/v1/"):
                codes[429] = _DESCRIPTIONS[429]
            if _uses_database(route):
                codes[503] = _DESCRIPTIONS[503]
            responses = operation.setdefault("responses", {})
            for code, description in sorted(codes.items()):
                if code == 422 or str(code) not in responses:
                    responses[str(code)] = _error_response(code, description)
    # FastAPI's own 422 schemas are replaced everywhere by ValidationErrors.
    if REF.format(model="HTTPValidationError") not in repr(document["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)  # referenced only by HTTPValidationError
    return document


def install(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Make `app.openapi()` return the completed document (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = complete(routers, document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
