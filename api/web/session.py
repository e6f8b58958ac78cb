"""Who is signed in to the workbench, and the CSRF check of its forms.

The session is the API's own JWT, kept in an HttpOnly, SameSite=Strict cookie (Secure when the
page is served over HTTPS), verified by `api.auth.decode_token` exactly like a Bearer token.
The cookie is read only by page routes (`/…`), never by the API (`/v1/…`), so a page cannot be
made to call the API with the user's authority.

CSRF: every state-changing form carries the value of a random `matching_csrf` cookie
(double-submit; the cookie is HttpOnly and SameSite=Strict too). A POST whose field does not
equal the cookie is refused with 403 before anything else happens.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import Response

from api.auth import InvalidToken, Principal, decode_token
from api.deps import SettingsDep

SESSION_COOKIE = "matching_session"
CSRF_COOKIE = "matching_csrf"
LANG_COOKIE = "matching_lang"


class SignInRequired(Exception):
    """No usable session: the page answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str = "/") -> None:
        self.next_path = next_path


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")


def page_principal(request: Request, settings: SettingsDep) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired(request.url.path)
    try:
        principal = decode_token(token, settings)
    except InvalidToken:
        raise SignInRequired(request.url.path) from None
    request.state.principal = principal  # refused pages are audited like refused API calls (api.refusals)
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def page_role(*roles: str) -> Callable[[Principal], Principal]:
    """Like `api.deps.require_role`, for the cookie session: 403 (audited) for other roles."""

    def check(principal: PagePrincipal) -> Principal:
        if principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"role {principal.role!r} may not do this; allowed: {', '.join(roles)}")
        return principal

    return check


AdviserPage = Annotated[Principal, Depends(page_role("adviser", "admin"))]
LiaisonPage = Annotated[Principal, Depends(page_role("liaison", "admin"))]
StaffPage = Annotated[Principal, Depends(page_role("adviser", "liaison", "admin"))]
AdminPage = Annotated[Principal, Depends(page_role("admin"))]


def csrf_token(request: Request) -> str:
    """The request's CSRF value: the cookie's, or a new one (set on the response by `render`)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return token


async def check_csrf(request: Request) -> None:
    """Dependency of every page POST: the form's `csrf` field must equal the cookie."""
    form = await request.form()
    sent, cookie = form.get("csrf"), request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="csrf")


CsrfChecked = Depends(check_csrf)


LangCode = Literal["nb", "en"]


def page_lang(request: Request) -> LangCode:
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if lang == "en" else "nb"


Lang = Annotated[LangCode, Depends(page_lang)]
