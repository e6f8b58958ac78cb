"""The workbench in a real browser: headless Debian chromium (Playwright for Python, never
`playwright install`) against a real `matching serve` on a copy of the published fixture world.

One server and one browser per module. Every page visited is checked with axe-core (vendored
under tests/vendor/axe-core): no serious or critical violation. Screenshots (1280×800) go to
docs/screenshots/, which the README links.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from api.auth import create_token
from matching.store import lists
from matching.store import tables as t
from matching.taxonomy import adaptations
from tests.conftest import SECRET, TODAY, db_engine, participant_rows, settings_for

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "docs" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_COUNTS: dict[str, int] = {}


@dataclass
class Server:
    url: str
    settings: object
    db: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(published, tmp_path_factory) -> Iterator[Server]:
    db = tmp_path_factory.mktemp("web") / "web.db"
    with sqlite3.connect(published.settings.sqlite_path()) as a, sqlite3.connect(db) as b:
        a.backup(b)
    port = _free_port()
    env = {
        **os.environ,
        "MATCHING_DATABASE_URL": f"sqlite:///{db}",
        "MATCHING_SECRET_KEY": SECRET,
        "MATCHING_TODAY": TODAY.isoformat(),
        "MATCHING_MODEL_DIR": str(ROOT / "models"),
        "MATCHING_TOP_K": "10",
        "MATCHING_ENVIRONMENT": "development",
        "MATCHING_RATE_LIMIT_ENABLED": "false",
    }
    log = (tmp_path_factory.mktemp("web-log") / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "matching.cli", "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, f"server did not start: {log.name}"
        time.sleep(0.3)
    try:
        yield Server(url, settings_for(db, ROOT / "models"), db)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.url)
    pg = context.new_page()
    yield pg
    context.close()


def sign_in(page, role: str, office: str | None, sub: str) -> None:
    page.goto("/signin")
    page.select_option("#role", role)
    if office:
        page.select_option("#office", office)
    page.fill("#sub", sub)
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_load_state()


def check_page(page, name: str) -> None:
    """axe-core on the page as shown: no serious or critical violation; then a screenshot."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    AXE_COUNTS[name] = len(bad)
    assert bad == [], f"{name}: {bad}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _office_participant_with_trials(server: Server) -> dict:
    """A participant (assigned to an adviser) whose served list has a trial placement."""
    with db_engine(server.settings).connect() as conn:
        served = lists.serving(conn)
        kinds = dict(conn.execute(select(t.openings.c.opening_id, t.openings.c.kind)).all())
        listed = lists.run_lists(conn, served.run_id)
    for p in participant_rows(server.settings):
        entries = listed.get(p["participant_id"], [])
        if p["adviser_id"] and {kinds[o] for _, o, _ in entries} == {"job", "trial"}:
            return p
    raise AssertionError("no fixture participant with both jobs and trials on their list")


def _admin_get(server: Server, path: str, **params) -> dict:
    token = create_token("admin@test", "admin", [], server.settings)
    res = httpx.get(server.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert res.status_code == 200, res.text
    return res.json()


def test_an_adviser_works_through_a_participant_and_what_they_record_is_stored_and_audited(page, server):
    p = _office_participant_with_trials(server)
    pid, sub = p["participant_id"], p["adviser_id"]
    page.goto("/signin")
    check_page(page, "signin")
    sign_in(page, "adviser", p["office_id"], sub)
    assert page.url.endswith("/caseload")
    check_page(page, "caseload")
    first_rows = page.locator("tbody tr").all_inner_texts()
    assert first_rows and "Min" in first_rows[0]  # my own participants come first

    page.goto(f"/participants/{pid}")
    check_page(page, "participant")
    page.select_option("#kind", "trial")  # submits itself
    page.wait_for_url("**kind=trial**")
    kinds = page.locator("li.match .match-head .badge").all_inner_texts()
    assert kinds and set(kinds) <= {"Arbeidstrening", "Ny siden i natt", "Svak match"}

    first = page.locator("li.match").first
    opening_id = first.get_attribute("id").removeprefix("m-")
    first.locator("details.explain summary").click()
    page.wait_for_selector("li.match >> nth=0 >> svg.chart")
    assert first.locator("table.data tbody tr").count() >= 5
    check_page(page, "explanation")

    first.locator("select[name=event]").select_option("contacted")
    first.locator("form.record button[type=submit]").click()
    page.wait_for_url("**recorded=1**")
    timeline = page.locator("#timeline").inner_text()
    assert "Kontaktet arbeidsgiver" in timeline and sub in timeline

    with db_engine(server.settings).connect() as conn:
        stored = conn.execute(
            select(t.outcomes).where(
                t.outcomes.c.participant_id == pid,
                t.outcomes.c.opening_id == opening_id,
                t.outcomes.c.event == "contacted",
                t.outcomes.c.actor == sub,
            )
        ).all()
    assert len(stored) == 1
    actions = {a["action"] for a in _admin_get(server, "/v1/audit", participant_id=pid, sub=sub, limit=100)["items"]}
    assert {"read_profile", "read_matches", "read_events", "explain_pair", "list_participants"} <= actions


def test_what_if_reranks_at_once_stores_nothing_and_shows_bad_input_next_to_the_field(page, server):
    p = _office_participant_with_trials(server)
    pid = p["participant_id"]
    with db_engine(server.settings).connect() as conn:
        before = {
            tb.name: conn.execute(select(func.count()).select_from(tb)).scalar_one()
            for tb in (t.participants, t.outcomes, t.participant_lists)
        }
    sign_in(page, "adviser", p["office_id"], p["adviser_id"])
    page.goto(f"/participants/{pid}/what-if")
    page.fill("#max_commute_km", "abc")
    page.click("form.stack button[type=submit]")
    expect(page.locator("#max_commute_km-error")).to_be_visible()  # waits for the answer
    expect(page.locator("#max_commute_km")).to_have_attribute("aria-invalid", "true")
    page.fill("#max_commute_km", "40")
    page.fill("#desired_styrk08", "9999")  # not a STYRK-08 unit group
    page.click("form.stack button[type=submit]")
    expect(page.locator("#desired_styrk08-error")).to_be_visible()

    page.fill("#desired_styrk08", ", ".join(p["desired_styrk08"]))
    page.fill("#max_commute_km", "3")
    page.select_option("#goal", "job")
    page.click("form.stack button[type=submit]")
    expect(page.locator("#whatif-result li").first).to_be_visible()
    result = page.locator("#whatif-result li").all_inner_texts()
    current = page.locator("#current-h + ol li").all_inner_texts()
    assert result != current
    check_page(page, "what-if")
    with db_engine(server.settings).connect() as conn:
        after = {
            tb.name: conn.execute(select(func.count()).select_from(tb)).scalar_one()
            for tb in (t.participants, t.outcomes, t.participant_lists)
        }
        row = conn.execute(select(t.participants).where(t.participants.c.participant_id == pid)).one()._mapping
    assert after == before
    assert row["max_commute_km"] == p["max_commute_km"] and row["goal"] == p["goal"]


def _opening_with_only_non_consenting_needs(server: Server) -> tuple[str, str, list[str]]:
    """An opening whose served candidates include participants with needs who did not consent,
    and nobody whose needs may be shown: any need label on its page would be a leak."""
    people = {p["participant_id"]: p for p in participant_rows(server.settings)}
    with db_engine(server.settings).connect() as conn:
        served = lists.serving(conn)
        office = dict(conn.execute(select(t.openings.c.opening_id, t.openings.c.office_id)).all())
        listed = lists.run_lists(conn, served.run_id, side="opening")
    for oid, entries in sorted(listed.items(), key=lambda kv: -len(kv[1])):
        shown = [people[pid] for _, pid, _ in entries]
        hidden = [q["participant_id"] for q in shown if q["adaptation_needs"] and not q["shares_needs_with_employers"]]
        if hidden and not any(q["adaptation_needs"] and q["shares_needs_with_employers"] for q in shown):
            return oid, office[oid], hidden
    raise AssertionError("no opening with non-consenting candidates only")


def test_a_liaison_sees_candidates_without_anyone_elses_needs_anywhere_in_the_html(page, server):
    oid, office, hidden = _opening_with_only_non_consenting_needs(server)
    sign_in(page, "liaison", office, "markedskontakt-1")
    assert page.url.endswith("/openings")
    check_page(page, "openings")
    needs = {c for p in participant_rows(server.settings) if not p["shares_needs_with_employers"] for c in p["adaptation_needs"]}
    words = set(needs) | {adaptations.label(c, lang) for c in needs for lang in ("nb", "en")}
    for lang in ("nb", "en"):
        response = page.goto(f"/openings/{oid}?lang={lang}")
        assert response.status == 200
        html = response.text()
        assert all(pid in html for pid in hidden[:3])  # they are listed — without their needs
        leaks = sorted(w for w in words if w.lower() in html.lower())
        assert leaks == [], leaks
        assert sorted(w for w in words if w.lower() in page.content().lower()) == []
        if lang == "nb":
            check_page(page, "opening")
    orgnr = page.locator("h1 a").get_attribute("href")
    page.goto(orgnr)
    check_page(page, "employer")


def test_another_office_gets_a_refusal_page_not_data_and_it_is_audited(page, server):
    p = _office_participant_with_trials(server)
    other = next(o for o in ("nav-heimdal", "nav-melhus", "nav-skaun") if o != p["office_id"])
    sign_in(page, "adviser", other, "veileder-other-1")
    response = page.goto(f"/participants/{p['participant_id']}")
    status, html = response.status, response.text()
    unknown = page.goto("/participants/P-999999")
    assert status == unknown.status == 404  # like the API: no probing of other offices' ids
    assert p["desired_titles"][0] not in html and html.replace(p["participant_id"], "X") == unknown.text().replace("P-999999", "X")
    opening_id, opening_office, _ = _opening_with_only_non_consenting_needs(server)
    response = page.goto(f"/openings/{opening_id}")  # a liaison page: 403 for an adviser
    assert response.status == 403 and "ikke tilgang" in response.text()
    check_page(page, "refused")
    sign_in(page, "liaison", next(o for o in ("nav-heimdal", "nav-melhus", "nav-skaun") if o != opening_office), "markedskontakt-other")
    response = page.goto(f"/openings/{opening_id}")
    assert response.status == 403 and "Kandidater" not in response.text()
    refused = _admin_get(server, "/v1/audit", sub="veileder-other-1", limit=100)["items"]
    assert {(a["action"], a["participant_id"]) for a in refused} >= {
        ("refused GET /participants/{participant_id}", p["participant_id"]),
        ("refused GET /openings/{opening_id}", None),
    }
    assert any(
        a["action"] == "refused GET /openings/{opening_id}" for a in _admin_get(server, "/v1/audit", sub="markedskontakt-other")["items"]
    )


def test_a_form_post_without_the_csrf_token_is_refused_and_changes_nothing(page, server):
    p = _office_participant_with_trials(server)
    sign_in(page, "adviser", p["office_id"], p["adviser_id"])
    page.goto(f"/participants/{p['participant_id']}")
    opening_id = page.locator("li.match").first.get_attribute("id").removeprefix("m-")
    with db_engine(server.settings).connect() as conn:
        before = conn.execute(select(func.count()).select_from(t.outcomes)).scalar_one()
    for form in ({}, {"csrf": "forged"}):
        res = page.request.post(f"/participants/{p['participant_id']}/events", form={"opening_id": opening_id, "event": "hired", **form})
        assert res.status == 403 and "CSRF" in res.text()
    with db_engine(server.settings).connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.outcomes)).scalar_one() == before
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["matching_session"]["httpOnly"] and cookies["matching_session"]["sameSite"] == "Strict"
    page.click("header form[action='/signout'] button")
    page.wait_for_url("**/signin")
    assert "matching_session" not in {c["name"] for c in page.context.cookies()}
    assert page.goto(f"/participants/{p['participant_id']}").url.endswith("/signin")


def test_admin_pages(page, server):
    sign_in(page, "admin", None, "admin-1")
    assert page.url.endswith("/admin/runs")
    assert page.locator("tbody tr").count() >= 2
    check_page(page, "runs")
    page.goto("/admin/model")
    assert page.locator("table.weights").count() >= 10
    check_page(page, "model-card")
    page.goto("/admin/audit?sub=admin-1")
    check_page(page, "audit")
    (SHOTS / "axe.json").write_text(json.dumps(AXE_COUNTS, indent=1, sort_keys=True) + "\n")


def test_an_adviser_toggles_between_the_personal_ranking_and_recommended_now_with_reasons(page, server):
    """Issue 14's view toggle: the same participant's personal ranking and the run's
    recommended-now list (`?view=recommended`), each recommended entry with its allocation
    reason, in bokmål and English."""
    with db_engine(server.settings).connect() as conn:
        served = lists.serving(conn)
        personal = lists.run_lists(conn, served.run_id)
        r = t.recommended_lists
        rec = {p: json.loads(o) for p, o in conn.execute(select(r.c.participant_id, r.c.opening_ids).where(r.c.run_id == served.run_id))}
    # someone whose recommended-now list differs from the head of their personal list
    p = next(
        p
        for p in participant_rows(server.settings)
        if p["adviser_id"]
        and len(rec.get(p["participant_id"], [])) >= 3
        and rec[p["participant_id"]][:3] != [o for _, o, _ in personal[p["participant_id"]]][:3]
    )
    pid = p["participant_id"]
    page.goto("/signin")
    sign_in(page, "adviser", p["office_id"], p["adviser_id"])
    page.goto(f"/participants/{pid}")
    toggle = page.locator("nav.view-toggle")
    expect(toggle.locator("a[aria-current=page]")).to_have_text("Personlig rangering")
    assert page.locator("p.allocation").count() == 0  # the personal view shows no allocation line
    personal_ids = [i.removeprefix("m-") for i in page.locator("li.match").evaluate_all("els => els.map(e => e.id)")]

    toggle.get_by_text("Anbefalt nå").click()
    page.wait_for_url("**view=recommended**")
    expect(page.locator("nav.view-toggle a[aria-current=page]")).to_have_text("Anbefalt nå")
    shown = [i.removeprefix("m-") for i in page.locator("li.match").evaluate_all("els => els.map(e => e.id)")]
    assert shown and shown == [o for o in rec[pid] if o in shown]  # the run's list, in its own order
    assert shown != personal_ids
    reasons = page.locator("li.match p.allocation").all_inner_texts()
    assert len(reasons) == len(shown) and all(r.startswith("Kapasitet") and len(r) > len("Kapasitet") + 5 for r in reasons)
    page.evaluate("document.getElementById('matches-h').scrollIntoView()")  # the screenshot shows the toggle and the list
    check_page(page, "participant-recommended")

    page.select_option("#kind", "job")  # the filter form (it submits itself) keeps the view
    page.wait_for_url("**kind=job**")
    page.wait_for_load_state()
    assert "view=recommended" in page.url
    expect(page.locator("nav.view-toggle a[aria-current=page]")).to_have_text("Anbefalt nå")

    page.goto(f"/participants/{pid}?view=recommended&lang=en")
    expect(page.locator("nav.view-toggle a[aria-current=page]")).to_have_text("Recommended now")
    en = page.locator("li.match p.allocation").all_inner_texts()
    assert en and all(r.startswith("Capacity") for r in en) and en != reasons

    page.locator("nav.view-toggle").get_by_text("Personal ranking").click()
    page.wait_for_url("**view=personal**")
    assert page.locator("p.allocation").count() == 0
    with db_engine(server.settings).connect() as conn:  # both reads audited with their view
        details = [
            d
            for (d,) in conn.execute(
                select(t.audit_log.c.detail).where(t.audit_log.c.action == "read_matches", t.audit_log.c.participant_id == pid)
            )
        ]
    assert any("view=recommended" in d for d in details) and any("view=personal" in d for d in details)


def test_the_recommended_view_holds_back_full_openings_below_a_divider_with_why(page, server):
    """Session 22: openings with no room now are not recommended now. The recommended view shows
    the list with room, then, below a divider, the best fits held back with the reason (full: no
    free place / spoken for, how many in process); when openings without room left the list
    short, its head says so. In bokmål and English."""
    with db_engine(server.settings).connect() as conn:
        served = lists.serving(conn)
        recs = {
            p["participant_id"]: lists.read_recommended(conn, served.run_id, p["participant_id"]) for p in participant_rows(server.settings)
        }
    rows = {p["participant_id"]: p for p in participant_rows(server.settings)}
    held = {pid: [o for o, n in r.notes.items() if n.held and not n.kept] for pid, r in recs.items() if r is not None}
    # prefer someone whose list was left short by it (the head shows), else anyone with a held-back best fit
    pid = min((p for p in held if held[p] and rows[p]["adviser_id"]), key=lambda p: (len(recs[p].opening_ids), p))
    p = rows[pid]
    page.goto("/signin")
    sign_in(page, "adviser", p["office_id"], p["adviser_id"])
    page.goto(f"/participants/{pid}?view=recommended")
    expect(page.locator("#held-back-h")).to_have_text("Fullt nå – ikke anbefalt nå (de står fortsatt i den personlige rangeringen)")
    shown = [i.removeprefix("h-") for i in page.locator("li.held-back-item").evaluate_all("els => els.map(e => e.id)")]
    assert shown and set(shown) <= set(held[pid])
    recommended = {i.removeprefix("m-") for i in page.locator("li.match").evaluate_all("els => els.map(e => e.id)")}
    assert not recommended & set(held[pid])  # never above the divider
    texts = page.locator("li.held-back-item p.allocation").all_inner_texts()
    assert len(texts) == len(shown) and all(t.startswith("Kapasitet") and "Holdt tilbake nå: fullt" in t for t in texts)
    short = len(recs[pid].opening_ids) < server.settings.recommend_now
    assert page.locator("#room-head").count() == int(short)
    if short:
        expect(page.locator("#room-head")).to_contain_text("ledig plass")
    page.evaluate("document.getElementById('held-back-h').scrollIntoView()")
    check_page(page, "participant-held-back")
    page.goto(f"/participants/{pid}?view=recommended&lang=en")
    expect(page.locator("#held-back-h")).to_have_text("Full now – not recommended now (they stay in the personal ranking)")
    en = page.locator("li.held-back-item p.allocation").all_inner_texts()
    assert en and all(t.startswith("Capacity") and "Held back for now: full" in t for t in en)
    if short:
        expect(page.locator("#room-head")).to_contain_text("with room now")
    page.goto(f"/participants/{pid}?view=personal")  # the personal view has no divider
    assert page.locator("#held-back-h").count() == 0
