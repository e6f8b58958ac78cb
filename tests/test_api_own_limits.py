"""Issue 11 through HTTP: the person's own limits (hours wish, availability) and ties.

- a full-time seeker's rank 1 is not a part-time job when their list holds a full-time fit;
- the availability criterion's reason quotes the participant's date and the opening's start;
- entries whose shown score equals the one above are marked `tied_with_previous` and ordered by
  the documented secondary key (openings: earlier deadline, none last; then the employer's
  better inclusion record; then the id — candidates: available sooner, then the id).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from matching.criteria.hours import PART_TIME_BELOW
from matching.criteria.inclusion import smoothed_rate
from matching.store import tables as t
from tests.conftest import TODAY, db_engine, opening_rows, participant_rows


@pytest.fixture(scope="module")
def openings_by_id(world) -> dict[str, dict]:
    with db_engine(world).connect() as conn:
        emp = {r.orgnr: r for r in conn.execute(select(t.employers))}
    out = {}
    for o in opening_rows(world):
        e = emp[o["orgnr"]]
        out[o["opening_id"]] = {**o, "record": smoothed_rate(e.past_hires_after_trial, e.past_trial_placements)}
    return out


def _matches(client, auth, p: dict, **params) -> list[dict]:
    res = client.get(
        f"/v1/participants/{p['participant_id']}/matches", headers=auth("adviser", p["office_id"]), params={"limit": 10, **params}
    )
    assert res.status_code == 200, res.text
    return res.json()["matches"]


def test_a_full_time_seekers_top_entry_is_rarely_part_time_when_a_full_time_fit_exists(client, auth, world, openings_by_id):
    """Issue 11's goal: among full-time seekers, at most 10 % have a part-time rank 1 (before
    the hours criterion: 39 %). The hours are one learned criterion among others, so a
    part-time opening much better on the rest may come first — rarely."""
    checked, part_time_first = 0, []
    for p in participant_rows(world):
        if p["wants_part_time"]:
            continue
        items = _matches(client, auth, p)
        hours = [openings_by_id[m["opening_id"]]["hours_per_week"] for m in items]
        if any(h >= PART_TIME_BELOW for h in hours):
            checked += 1
            if hours[0] < PART_TIME_BELOW:
                part_time_first.append((p["participant_id"], hours[:3]))
    assert checked >= 50  # the fixtures hold ~110 full-time seekers with a list
    assert len(part_time_first) <= 0.10 * checked, part_time_first


def test_the_availability_reason_quotes_both_dates(client, auth, world, openings_by_id):
    """A profile available only months from now (POST /v1/match): openings that start before
    then carry the availability reason — the participant's date, the start date and the days
    between — in both languages, and it counts against them."""
    p = next(p for p in participant_rows(world) if p["goal"] != "trial" and not p["available_from"])
    body = {
        k: (v.isoformat() if isinstance(v, dt.date) else v)
        for k, v in p.items()
        if k not in ("participant_id", "office_id", "registered_at", "lat", "lon")
    }
    later = TODAY + dt.timedelta(days=90)
    body["available_from"] = later.isoformat()
    seen = 0
    for lang, phrase in (("nb", "etter oppstart"), ("en", "after the start")):
        res = client.post("/v1/match", headers=auth("adviser", p["office_id"]), json=body, params={"limit": 50, "lang": lang})
        assert res.status_code == 200, res.text
        for m in res.json()["matches"]:
            start = openings_by_id[m["opening_id"]]["start_date"]
            reason = next((r for r in m["reasons"] if r["feature"] == "availability"), None)
            if reason is None:
                continue
            if start is None or start >= later:  # available by the start, or no start date
                assert phrase not in reason["text"]
                continue
            days = (later - max(start, TODAY)).days
            assert reason["effect"] == "-" and phrase in reason["text"]
            assert later.isoformat() in reason["text"] and start.isoformat() in reason["text"]
            assert str(days) in reason["text"]
            seen += 1
    assert seen > 0, "no listed opening shows the availability reason"


def _opening_key(o: dict) -> tuple:
    deadline = o["deadline"].toordinal() if o["deadline"] else 10**7
    return deadline, -o["record"], o["opening_id"]


def test_ties_are_marked_and_ordered_by_the_documented_secondary_key(client, auth, world, openings_by_id):
    ties = entries = 0
    for p in participant_rows(world):
        items = _matches(client, auth, p, limit=50)
        entries += len(items)
        for above, m in zip(items, items[1:]):
            assert m["score"] == round(m["score"], 3)
            assert m["tied_with_previous"] == (m["score"] == above["score"])
            if m["tied_with_previous"]:
                ties += 1
                assert _opening_key(openings_by_id[above["opening_id"]]) < _opening_key(openings_by_id[m["opening_id"]])
            else:
                assert m["score"] < above["score"]
        assert not items or items[0]["tied_with_previous"] is False
    assert ties > 0 and entries > 0  # the fixtures have ties to order


def test_tied_candidates_are_ordered_by_availability_then_id(client, auth, world):
    available = {p["participant_id"]: p["available_from"] for p in participant_rows(world)}
    ties = 0
    for o in opening_rows(world):
        if o["status"] != "open":
            continue
        res = client.get(f"/v1/openings/{o['opening_id']}/candidates", headers=auth("liaison", o["office_id"]), params={"limit": 50})
        assert res.status_code == 200, res.text
        items = res.json()["candidates"]
        for above, c in zip(items, items[1:]):
            assert c["tied_with_previous"] == (c["score"] == above["score"])
            if c["tied_with_previous"]:
                ties += 1
                key = [(available[x["participant_id"]] or dt.date.min, x["participant_id"]) for x in (above, c)]
                assert key[0] < key[1]
    assert ties > 0
