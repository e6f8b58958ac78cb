"""The workbench: pages for advisers, liaison staff and admins under `/`, in the API's app.

`install(app)` adds the page routes, their static files, and the HTML faces of the API's own
error handling: a refused page is audited by `api.refusals` exactly like a refused API call,
then shown as a page instead of JSON; no session → the sign-in page.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import refusals
from api.errors import validation_error
from api.web import messages
from api.web.pages import HERE, render, router
from api.web.session import SignInRequired, page_lang

#: The workbench's own paths (errors as pages); the API's answer JSON.
PAGE_PREFIXES = ("/signin", "/signout", "/caseload", "/participants", "/openings", "/employers", "/admin", "/static/workbench")
API_PREFIXES = ("/v1", "/docs", "/redoc", "/openapi.json", "/healthz", "/metrics", "/static-offline-docs")


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def is_page(request: Request) -> bool:
    """A workbench path, or an unknown one asked for by a browser (HTML accepted)."""
    path = request.url.path
    if path == "/" or _under(path, PAGE_PREFIXES):
        return True
    return not _under(path, API_PREFIXES) and "text/html" in request.headers.get("accept", "")


def _message(status: int, detail: object, lang: str) -> str:
    if detail == "csrf":
        return messages.t("error.csrf", lang)
    key = {403: "error.403", 404: "error.404", 422: "error.422"}.get(status)
    return messages.t(key, lang) if key else str(detail)


async def http_exception(request: Request, exc: StarletteHTTPException) -> Response:
    response = await refusals.audited_http_exception(request, exc)  # audits refusals, pages too
    if not is_page(request):
        return response
    if exc.status_code == 401:
        return RedirectResponse("/signin", status_code=303)
    lang = page_lang(request)
    return render(
        request,
        "error.html",
        lang,
        getattr(request.state, "principal", None),
        status_code=exc.status_code,
        status=exc.status_code,
        message=_message(exc.status_code, exc.detail, lang),
    )


async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
    if not is_page(request):
        return await validation_error(request, exc)
    lang = page_lang(request)
    fields = ", ".join(".".join(str(x) for x in e["loc"][1:]) for e in exc.errors())
    return render(
        request,
        "error.html",
        lang,
        getattr(request.state, "principal", None),
        status_code=422,
        status=422,
        message=f"{messages.t('error.422', lang)} ({fields})",
    )


async def sign_in(request: Request, exc: SignInRequired) -> Response:
    return RedirectResponse("/signin", status_code=303)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static/workbench", StaticFiles(directory=HERE / "static"), name="workbench-static")
    app.add_exception_handler(SignInRequired, sign_in)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
