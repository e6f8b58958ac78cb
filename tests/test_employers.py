"""Employers' contact caps and responsiveness (issue 14): through the command line, the HTTP
API and the domain arrays the allocation consumes."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from matching.contacts import ANSWER_GRACE_DAYS, EmployerHistory, remaining_contacts
from matching.criteria.responsiveness import LOWER, MIN_CONTACTS, NEUTRAL, responsiveness
from matching.messages import t
from tests.conftest import TODAY, settings_for
from tests.test_cli import FIXTURES, _run

# ------------------------------------------------------------------------------ the loader


def test_bad_contact_caps_are_rejected_with_file_and_line(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    path = data / "employers.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
        header = list(rows[0])
    bad = {2: "0", 3: "-4", 4: "many", 5: "2.5", 6: "1001"}  # data row index → value
    for i, value in bad.items():
        rows[i]["max_contacts_per_month"] = value
    rows[7]["max_contacts_per_month"] = "12"  # fine
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    res = _run(tmp_path, "load", str(data))
    assert res.returncode == 2, res.stderr
    for i in bad:
        assert f"employers.csv:{i + 2}: max_contacts_per_month" in res.stderr, (i, res.stderr)
    assert f"employers.csv:{7 + 2}:" not in res.stderr
    assert "Traceback" not in res.stderr
    with sqlite3.connect(tmp_path / "cli.db") as conn:  # all or nothing
        assert conn.execute("SELECT count(*) FROM employers").fetchone() == (0,)


# ------------------------------------------------------------------------------ the HTTP API


@pytest.fixture()
def own_db(base_db, tmp_path) -> Path:
    path = tmp_path / "own.db"
    with sqlite3.connect(base_db) as a, sqlite3.connect(path) as b:
        a.backup(b)
    return path


@pytest.fixture(scope="module")
def pristine(base_db, model_dir, tmp_path_factory) -> tuple[Path, TestClient]:
    """The loaded fixtures as nobody changed them (other modules record events in `world`)."""
    path = tmp_path_factory.mktemp("employers") / "pristine.db"
    with sqlite3.connect(base_db) as a, sqlite3.connect(path) as b:
        a.backup(b)
    return path, _client(path, model_dir, TODAY)


def _client(db: Path, model_dir: Path, today: dt.date) -> TestClient:
    settings = settings_for(db, model_dir).model_copy(update={"today": today})
    return TestClient(create_app(settings))


def _capped_opening(db: Path) -> tuple[str, str, str, int]:
    """(opening, its office, employer orgnr, cap) of an open opening whose employer caps contacts."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT o.opening_id, o.office_id, e.orgnr, e.max_contacts_per_month FROM openings o JOIN employers e ON e.orgnr = o.orgnr "
            "WHERE e.max_contacts_per_month IS NOT NULL AND o.status = 'open' ORDER BY o.opening_id LIMIT 1"
        ).fetchone()


def _contacted_in(db: Path, orgnr: str, first: dt.date, last: dt.date) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT count(*) FROM outcomes x JOIN openings o ON o.opening_id = x.opening_id WHERE o.orgnr = ? "
            "AND x.event = 'contacted' AND date(x.occurred_at) BETWEEN ? AND ?",
            (orgnr, first.isoformat(), last.isoformat()),
        ).fetchone()[0]


def test_remaining_contacts_fall_with_contacts_this_month_and_reset_next_month(own_db, model_dir, auth):
    opening, office, orgnr, cap = _capped_opening(own_db)
    client = _client(own_db, model_dir, TODAY)
    liaison = auth("liaison", office)

    def contacts() -> dict:
        res = client.get(f"/v1/openings/{opening}", headers=liaison)
        assert res.status_code == 200, res.text
        return res.json()["employer_contacts"]

    used = _contacted_in(own_db, orgnr, TODAY.replace(day=1), TODAY)
    before = contacts()
    assert before == {
        "month": TODAY.strftime("%Y-%m"),
        "max_contacts_per_month": cap,
        "contacts_this_month": used,
        "remaining_contacts": max(cap - used, 0),
    }
    with sqlite3.connect(own_db) as conn:
        pid = conn.execute("SELECT participant_id FROM participants ORDER BY 1 LIMIT 1").fetchone()[0]

    def contact(day: dt.date, event: str = "contacted", minute: int = 0) -> None:
        at = f"{day.isoformat()}T10:{minute:02d}:00Z"
        body = {"participant_id": pid, "opening_id": opening, "event": event, "occurred_at": at}
        res = client.post("/v1/feedback", json=body, headers=auth("admin"))
        assert res.status_code in (200, 201), res.text

    contact(TODAY)
    after = contacts()
    assert after["contacts_this_month"] == used + 1
    assert after["remaining_contacts"] == max(cap - used - 1, 0)
    contact(TODAY.replace(day=1) - dt.timedelta(days=1))  # last month: does not count now
    contact(TODAY, "interview")  # not a contact
    assert contacts() == after
    for minute in range(1, cap + 2):  # never below zero
        contact(TODAY, minute=minute)
    assert contacts()["remaining_contacts"] == 0
    # Next month starts again from the full cap.
    next_month = (TODAY.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    res = _client(own_db, model_dir, next_month).get(f"/v1/openings/{opening}", headers=liaison)
    assert res.json()["employer_contacts"]["remaining_contacts"] == cap
    assert res.json()["employer_contacts"]["month"] == next_month.strftime("%Y-%m")


def test_contact_caps_are_for_staff_roles_and_none_means_no_cap(pristine, auth):
    db, client = pristine
    with sqlite3.connect(db) as conn:
        uncapped, office = conn.execute(
            "SELECT o.opening_id, o.office_id FROM openings o JOIN employers e ON e.orgnr = o.orgnr "
            "WHERE e.max_contacts_per_month IS NULL ORDER BY 1 LIMIT 1"
        ).fetchone()
    for role in ("adviser", "liaison", "admin"):
        body = client.get(f"/v1/openings/{uncapped}", headers=auth(role, office)).json()
        assert body["employer_contacts"]["max_contacts_per_month"] is None
        assert body["employer_contacts"]["remaining_contacts"] is None
    assert client.get(f"/v1/openings/{uncapped}", headers=auth("batch")).json().get("employer_contacts") is None


# ------------------------------------------------------------------------------ responsiveness


def _counts_from_rows(db: Path, orgnr: str, day: dt.date) -> tuple[int, int]:
    """(contacts, answered) over the year up to the office's latest event before `day`,
    counted straight from the outcome rows."""
    with sqlite3.connect(db) as conn:
        ev = pd.read_sql(
            "SELECT o.orgnr, x.participant_id, x.opening_id, x.event, x.occurred_at FROM outcomes x "
            "JOIN openings o ON o.opening_id = x.opening_id JOIN employers e ON e.orgnr = o.orgnr "
            "WHERE e.office_id = (SELECT office_id FROM employers WHERE orgnr = ?)",
            conn,
            params=(orgnr,),
        )
    ev["day"] = pd.to_datetime(ev["occurred_at"]).dt.date
    ev = ev[ev["day"] < day]
    last = ev["day"].max() if len(ev) else day - dt.timedelta(days=1)
    ev = ev[ev["orgnr"] == orgnr]
    answers = ev[ev["event"].isin(["interview", "trial_started", "hired", "declined_by_employer"])]
    contacts = answered = 0
    for c in ev[(ev["event"] == "contacted") & (ev["day"] > last - dt.timedelta(days=365))].itertuples():
        same = answers[(answers["participant_id"] == c.participant_id) & (answers["opening_id"] == c.opening_id)]
        ok = bool((same["day"] >= c.day).any())
        answered += ok
        contacts += ok or c.day <= last - dt.timedelta(days=ANSWER_GRACE_DAYS)
    return contacts, answered


def _explained(client, auth, pid, office, opening, lang) -> dict:
    res = client.get(f"/v1/participants/{pid}/matches/{opening}?lang={lang}", headers=auth("adviser", office))
    assert res.status_code == 200, res.text
    body = res.json()
    rows = [f for f in body["features"] if f["feature"] == "responsiveness"]
    assert len(rows) == 1, body
    return rows[0]


def _employer_openings(db: Path) -> pd.DataFrame:
    with sqlite3.connect(db) as conn:
        return pd.read_sql(
            "SELECT o.opening_id, o.orgnr, e.office_id, (SELECT min(participant_id) FROM participants p "
            "WHERE p.office_id = e.office_id) AS participant_id FROM openings o JOIN employers e ON e.orgnr = o.orgnr "
            "WHERE o.status = 'open' ORDER BY o.opening_id",
            conn,
        ).dropna()


def test_responsiveness_quotes_the_contact_counts_in_both_languages(pristine, auth):
    db, client = pristine
    seen, usually = set(), 0
    for row in _employer_openings(db).drop_duplicates("orgnr").itertuples():
        contacts, answered = _counts_from_rows(db, row.orgnr, TODAY)
        nb = _explained(client, auth, row.participant_id, row.office_id, row.opening_id, "nb")
        en = _explained(client, auth, row.participant_id, row.office_id, row.opening_id, "en")
        assert nb["level"] == en["level"] and nb["values"] == en["values"] and nb["text"] != en["text"]
        assert (nb["values"]["contacts"], nb["values"]["answered"]) == (contacts, answered)
        if contacts >= MIN_CONTACTS and "interviews" not in en["text"]:
            assert f"{answered} av {contacts} henvendelser" in nb["text"] and f"{answered} of {contacts} contacts" in en["text"]
        if en["text"].startswith("Usually answers:"):
            usually += 1
            assert nb["text"] == t("responsiveness.usually", "nb", answered=answered, contacts=contacts)
            assert nb["level"] == NEUTRAL and nb["contribution"] == 0
        if nb["level"] == LOWER:
            assert nb["contribution"] < 0 and nb["effect"] == "-"
        seen.add(nb["level"])
    assert seen == {LOWER, NEUTRAL} and usually > 0  # the fixtures hold every kind of employer


def test_little_history_is_neutral_not_a_penalty(pristine, auth):
    db, client = pristine
    few = [
        r for r in _employer_openings(db).drop_duplicates("orgnr").itertuples() if _counts_from_rows(db, r.orgnr, TODAY)[0] < MIN_CONTACTS
    ]
    assert few
    for row in few:
        for lang in ("nb", "en"):
            got = _explained(client, auth, row.participant_id, row.office_id, row.opening_id, lang)
            assert got["level"] == NEUTRAL and got["contribution"] == 0 and got["effect"] == "0"
            assert got["text"] == t("responsiveness.little_history", lang, **got["values"])


def test_events_on_or_after_the_snapshot_day_are_never_used(base_db, model_dir, auth, tmp_path):
    """Responsiveness on a past day is what the history up to that day alone gives: the full
    database and one with every later event deleted explain the same. (Ignoring the day would
    let the later events in: the full database on today shows they change the figures.)"""
    past = dt.date(2026, 6, 1)
    full, cut = tmp_path / "full.db", tmp_path / "cut.db"
    for path in (full, cut):
        with sqlite3.connect(base_db) as a, sqlite3.connect(path) as b:
            a.backup(b)
    with sqlite3.connect(cut) as conn:
        assert conn.execute("DELETE FROM outcomes WHERE date(occurred_at) >= ?", (past.isoformat(),)).rowcount > 0
    rows = list(_employer_openings(full).drop_duplicates("orgnr").itertuples())[:12]
    then_full, then_cut, now_full = (_client(full, model_dir, past), _client(cut, model_dir, past), _client(full, model_dir, TODAY))
    changed = 0
    for r in rows:
        args = (auth, r.participant_id, r.office_id, r.opening_id, "en")
        a, b = _explained(then_full, *args), _explained(then_cut, *args)
        assert (a["level"], a["values"], a["text"]) == (b["level"], b["values"], b["text"])
        changed += _explained(now_full, *args)["values"] != a["values"]
    assert changed > 0


# ------------------------------------------------------------------------------ the arrays


def _history(contacts: list[tuple[str, int, int | None]], caps: dict[str, int | None]) -> EmployerHistory:
    """contacts: (orgnr, contact day, answer day or None); every employer in office "a"."""
    employers = pd.DataFrame({"orgnr": list(caps), "office_id": "a", "max_contacts_per_month": list(caps.values())})
    rows = []
    for i, (orgnr, day, answer) in enumerate(contacts):
        rows.append((orgnr, f"P{i}", f"O{i}", "contacted", dt.date.fromordinal(day)))
        if answer is not None:
            rows.append((orgnr, f"P{i}", f"O{i}", "interview", dt.date.fromordinal(answer)))
    events = pd.DataFrame(rows, columns=["orgnr", "participant_id", "opening_id", "event", "occurred_at"])
    return EmployerHistory.from_frames(employers, events)


def test_remaining_contacts_per_calendar_month():
    d = dt.date(2026, 3, 10).toordinal()
    h = _history(
        [("111", d - 20, None), ("111", d - 5, None), ("111", d, None), ("111", d + 3, None), ("222", d, None)], {"111": 5, "222": None}
    )
    assert remaining_contacts(h, dt.date(2026, 3, 10)).tolist() == [3.0, np.inf]  # Feb 18 is last month; Mar 13 is later
    assert remaining_contacts(h, dt.date(2026, 3, 31)).tolist() == [2.0, np.inf]
    assert remaining_contacts(h, dt.date(2026, 4, 1)).tolist() == [5.0, np.inf]


def test_responsiveness_levels_need_evidence():
    day = dt.date(2026, 6, 1).toordinal()
    old = day - 60
    busy = [("900", old - i, old - i + 3) for i in range(40)]  # the office answers
    cases = {
        "101": [("101", old, None)] * 2,  # two unanswered: too little to say
        "102": [("102", old - i, None) for i in range(8)],  # eight unanswered: credibly worse
        "103": [("103", old - i, old - i + 2) for i in range(8)],  # eight answered
        "104": [("104", day - 3, None)] * 6,  # recent and unanswered yet: not counted
        "105": [("105", day + i, None) for i in range(8)],  # after the day: not counted
    }
    history = _history(busy + [c for cs in cases.values() for c in cs], dict.fromkeys(["900", *cases], None))
    from matching.criteria.responsiveness import _per_employer

    v = _per_employer(history, day)
    level = dict(zip(history.orgnrs, v["level"]))
    contacts = dict(zip(history.orgnrs, v["contacts"]))
    assert level["101"] == NEUTRAL and level["102"] == LOWER and level["103"] == NEUTRAL
    assert level["104"] == NEUTRAL and contacts["104"] == 0
    assert level["105"] == NEUTRAL and contacts["105"] == 0
    assert responsiveness.uninformative is not None and responsiveness.uninformative({"contacts": 2})
