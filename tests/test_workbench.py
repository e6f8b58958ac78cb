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


def test_the_admin_model_page_shows_the_full_ranking_and_links_the_readable_card(client, world):
    from matching import card as card_page
    from matching.scoring import ScoringModel

    version = ScoringModel.load(world.model_dir).version
    client.cookies.clear()
    client.cookies.set("matching_session", create_token("ada", "admin", [], world))
    page = client.get("/admin/model").text
    assert "recall@10" in page and f"/admin/model/card/matcher-{version}.md" in page
    for kind, name in card_page.pictures(version).items():
        assert kind == "weights" or f'src="/admin/model/card/{name}"' in page  # the weights are drawn in HTML there
        res = client.get(f"/admin/model/card/{name}")
        assert res.status_code == 200 and res.headers["content-type"] == "image/png"
    res = client.get(f"/admin/model/card/matcher-{version}.md")
    assert res.status_code == 200 and res.text.startswith(f"# Model card: matcher {version}")
    for other in ("LATEST", f"matcher-{version}.joblib", "..%2Fpyproject.toml", "matcher-0.0-weights.png"):
        assert client.get(f"/admin/model/card/{other}").status_code == 404
    client.cookies.set("matching_session", create_token("kari", "adviser", ["nav-heimdal"], world))
    assert client.get(f"/admin/model/card/matcher-{version}.md", follow_redirects=False).status_code in (303, 403)
    client.cookies.clear()


def test_the_recommended_now_view_before_any_run_says_so_and_a_bad_view_is_refused(client, world):
    from tests.conftest import participant_rows

    p = participant_rows(world)[0]
    client.cookies.clear()
    client.cookies.set("matching_session", create_token("kari", "adviser", [p["office_id"]], world))
    res = client.get(f"/participants/{p['participant_id']}", params={"view": "recommended"})
    assert res.status_code == 200 and 'id="no-recommended"' in res.text and "Anbefalt nå" in res.text
    en = client.get(f"/participants/{p['participant_id']}", params={"view": "recommended", "lang": "en"})
    assert "no recommended-now list" in en.text
    assert client.get(f"/participants/{p['participant_id']}", params={"view": "nearest"}).status_code == 422
    client.cookies.clear()


def test_the_runs_page_names_each_run_status_in_the_page_language(pub_client, published):
    from api.web.messages import MESSAGES
    from matching.schema import RunStatus

    assert all(f"run_status.{s.value}" in MESSAGES for s in RunStatus)  # every status the batch can write has a label
    pub_client.cookies.clear()
    pub_client.cookies.set("matching_session", create_token("ada", "admin", [], published.settings))
    nb = pub_client.get("/admin/runs").text
    assert "<td>publisert</td>" in nb and "<td>published</td>" not in nb
    en = pub_client.get("/admin/runs", params={"lang": "en"}).text
    assert "<td>published</td>" in en
    pub_client.cookies.clear()
