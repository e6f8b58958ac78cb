"""Workbench sign-in rules, without a browser (tests/test_workbench_browser.py drives the pages)."""

from __future__ import annotations

from api.auth import create_token


def _csrf(client) -> str:
    client.get("/signin")
    return client.cookies.get("matching_csrf")


def test_outside_development_the_sign_in_page_takes_only_a_real_token(world):
    from fastapi.testclient import TestClient

    from api.app import create_app

    client = TestClient(create_app(world))  # environment "test": no development sign-in
    page = client.get("/signin").text
    assert 'name="token"' in page and 'name="role"' not in page
    res = client.post("/signin", data={"csrf": _csrf(client), "role": "admin", "sub": "me"}, follow_redirects=False)
    assert res.status_code == 422 and "matching_session" not in res.headers.get("set-cookie", "")
    token = create_token("kari", "adviser", ["nav-heimdal"], world)
    res = client.post("/signin", data={"csrf": _csrf(client), "token": token}, follow_redirects=False)
    assert res.status_code == 303
    cookie = res.headers["set-cookie"]
    assert "matching_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over HTTPS the cookie is Secure


def test_without_a_session_pages_send_you_to_sign_in_and_the_api_ignores_the_cookie(client, world):
    client.cookies.clear()
    res = client.get("/caseload", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/signin"
    token = create_token("kari", "adviser", ["nav-heimdal"], world)
    client.cookies.set("matching_session", token)
    res = client.get("/v1/participants")
    assert res.status_code == 401  # the API takes Bearer tokens only: no cross-site request rides the cookie
    client.cookies.clear()


def test_sign_in_without_the_csrf_token_is_refused(client, world):
    client.cookies.clear()
    token = create_token("kari", "adviser", ["nav-heimdal"], world)
    res = client.post("/signin", data={"token": token}, follow_redirects=False)
    assert res.status_code == 403 and "matching_session" not in res.headers.get("set-cookie", "")
