"""POST /v1/match (a profile that is never stored) and POST /v1/feedback (outcome events)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from matching.store import tables as t
from tests.conftest import db_engine, opening_rows, participant_rows


@pytest.fixture(scope="module")
def profile(world) -> dict:
    """A stored participant's profile as a POST body (their id left out; their office kept: an
    opening their own office lists counts for them, `criteria/office.py`)."""
    p = next(p for p in participant_rows(world) if p["adaptation_needs"])
    body = {k: v for k, v in p.items() if k not in ("participant_id", "registered_at", "lat", "lon")}
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in body.items()} | {"_id": p["participant_id"]}


def _body(profile: dict, **changes) -> dict:
    return {k: v for k, v in profile.items() if k != "_id"} | changes


def _count(settings, table) -> int:
    with db_engine(settings).connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_posted_profile_matches_like_the_stored_participant(client, auth, world, profile):
    before = _count(world, t.participants)
    res = client.post("/v1/match", params={"limit": 5}, json=_body(profile), headers=auth("adviser"))
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["participant_id"] is None and body["run_id"] is None and body["model_version"]
    stored = client.get(f"/v1/participants/{profile['_id']}/matches", params={"limit": 5}, headers=auth("admin")).json()
    assert [(m["opening_id"], m["score"]) for m in body["matches"]] == [(m["opening_id"], m["score"]) for m in stored["matches"]]
    assert all(m["new_since_last_run"] is False for m in body["matches"])
    assert _count(world, t.participants) == before


def test_posted_profile_is_never_stored_anywhere(client, auth, world, profile):
    counts = {tb.name: _count(world, tb) for tb in (t.participants, t.outcomes, t.participant_lists)}
    marker = f"Trusted {uuid.uuid4().hex}"
    res = client.post("/v1/match", json=_body(profile, trusted_person=marker), headers=auth("adviser"))
    assert res.status_code == 200
    assert {tb.name: _count(world, tb) for tb in (t.participants, t.outcomes, t.participant_lists)} == counts
    with db_engine(world).connect() as conn:
        details = conn.execute(select(t.audit_log.c.detail)).scalars().all()
    assert not any(marker in (d or "") for d in details)


def test_kind_and_limit_apply_to_a_posted_profile(client, auth, profile):
    for kind in ("job", "trial"):
        res = client.post("/v1/match", params={"kind": kind, "limit": 3}, json=_body(profile, goal="either"), headers=auth("admin"))
        assert res.status_code == 200
        matches = res.json()["matches"]
        assert len(matches) <= 3 and all(m["kind"] == kind for m in matches)
        assert [m["rank"] for m in matches] == list(range(1, len(matches) + 1))


def test_titles_are_normalised_when_no_code_is_given(client, auth, profile):
    res = client.post("/v1/match", json=_body(profile, desired_titles=["butikkmedarbeider"], desired_styrk08=[]), headers=auth("adviser"))
    assert res.status_code == 200, res.text
    explicit = client.post("/v1/match", json=_body(profile, desired_styrk08=["5223"]), headers=auth("adviser"))
    assert [m["opening_id"] for m in res.json()["matches"]] == [m["opening_id"] for m in explicit.json()["matches"]]


BAD_BODIES = {
    "unrecognised title": ({"desired_titles": ["qwxzv plorkt"], "desired_styrk08": []}, "desired_titles"),
    "unknown adaptation code": ({"adaptation_needs": ["NOT_A_NEED"]}, "adaptation_needs"),
    "unknown postal code": ({"postal_code": "0000"}, "postal_code"),
    "postal code not 4 digits": ({"postal_code": "70A0"}, "postal_code"),
    "commute not positive": ({"max_commute_km": 0}, "max_commute_km"),
    "bad STYRK code": ({"desired_styrk08": ["12"]}, "desired_styrk08"),
    "bad goal": ({"goal": "pension"}, "goal"),
    "unknown field": ({"shoe_size": 44}, "shoe_size"),  # the stored fields of GET are accepted (issue 12)
    "needs not a list": ({"adaptation_needs": {"a": 1}}, "adaptation_needs"),
}


@pytest.mark.parametrize(("changes", "field"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_profile_is_422_naming_the_field(client, auth, profile, changes, field):
    res = client.post("/v1/match", json=_body(profile, **changes), headers=auth("adviser"))
    assert res.status_code == 422, res.text
    detail = res.json()["detail"]
    assert any(field in err["loc"] for err in detail), detail
    assert all(err["msg"] for err in detail)


def test_unknown_adaptation_code_message_lists_the_known_codes(client, auth, profile):
    detail = client.post("/v1/match", json=_body(profile, adaptation_needs=["NOT_A_NEED"]), headers=auth("adviser")).json()["detail"]
    assert "NOT_A_NEED" in detail[0]["msg"] and "ERGONOMI" in detail[0]["msg"]


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"[]", b"null", b'"text"', b'{"max_commute_km": NaN}', b'{"postal_code": Infinity}', b"\xff\xfe"]
)
def test_malformed_json_is_422(client, auth, raw):
    res = client.post("/v1/match", content=raw, headers=auth("adviser") | {"Content-Type": "application/json"})
    assert res.status_code == 422


def test_missing_required_fields_are_each_named(client, auth):
    res = client.post("/v1/match", json={}, headers=auth("adviser"))
    assert res.status_code == 422
    named = {err["loc"][-1] for err in res.json()["detail"]}
    assert {"postal_code", "max_commute_km", "desired_titles"} <= named


# ------------------------------------------------------------------------------ feedback


@pytest.fixture(scope="module")
def pair(world):
    p = participant_rows(world)[0]
    o = opening_rows(world)[0]
    return p, o


def test_feedback_records_an_outcome_with_the_token_subject(client, auth, world, pair):
    p, o = pair
    sub = f"kari-{uuid.uuid4().hex[:6]}"
    before = _count(world, t.outcomes)
    res = client.post(
        "/v1/feedback",
        json={"participant_id": p["participant_id"], "opening_id": o["opening_id"], "event": "contacted", "reason": "called the employer"},
        headers=auth("adviser", p["office_id"], sub=sub),
    )
    assert res.status_code == 201, res.text
    event = res.json()
    assert event["actor"] == sub and event["event"] == "contacted" and event["event_id"]
    occurred = dt.datetime.fromisoformat(event["occurred_at"])
    assert occurred.utcoffset() == dt.timedelta(0)  # responses carry the zone: UTC
    assert abs(occurred - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert _count(world, t.outcomes) == before + 1
    with db_engine(world).connect() as conn:
        row = conn.execute(select(t.outcomes).where(t.outcomes.c.event_id == event["event_id"])).one()
    assert (row.participant_id, row.opening_id, row.event, row.actor, row.reason) == (
        p["participant_id"],
        o["opening_id"],
        "contacted",
        sub,
        "called the employer",
    )


def test_feedback_keeps_a_given_time_and_refuses_the_same_event_twice(client, auth, pair):
    p, o = pair
    body = {
        "participant_id": p["participant_id"],
        "opening_id": o["opening_id"],
        "event": "interview",
        "occurred_at": "2026-11-10T09:30:00+01:00",
    }
    first = client.post("/v1/feedback", json=body, headers=auth("admin"))
    assert first.status_code == 201
    assert first.json()["occurred_at"] == "2026-11-10T08:30:00Z"  # stored in UTC, answered as UTC
    assert client.post("/v1/feedback", json=body, headers=auth("admin")).status_code == 409


def test_liaison_records_feedback_for_openings_of_their_office(client, auth, world):
    """For a candidate they were shown; later events follow their own, even once the
    opening is filled (its list is empty then); others' history gives them nothing."""
    o = next(
        o
        for o in opening_rows(world)
        if o["status"] == "open" and client.get(f"/v1/openings/{o['opening_id']}/candidates", headers=auth("admin")).json()["candidates"]
    )
    shown = client.get(f"/v1/openings/{o['opening_id']}/candidates", headers=auth("admin")).json()["candidates"]
    pid = shown[0]["participant_id"]
    me = auth("liaison", o["office_id"], sub=f"liaison-{uuid.uuid4().hex[:6]}")
    body = {"participant_id": pid, "opening_id": o["opening_id"], "event": "contacted"}
    assert client.post("/v1/feedback", json=body, headers=me).status_code == 201
    other = next(x for x in opening_rows(world) if x["office_id"] != o["office_id"])
    assert client.post("/v1/feedback", json={**body, "opening_id": other["opening_id"]}, headers=me).status_code == 403
    # An event recorded by someone else for a pair this liaison was never shown opens nothing.
    with db_engine(world).connect() as conn:
        theirs = conn.execute(
            select(t.outcomes.c.participant_id, t.outcomes.c.opening_id)
            .join(t.openings, t.openings.c.opening_id == t.outcomes.c.opening_id)
            .where(t.openings.c.status != "open")
        ).first()
    office = next(x["office_id"] for x in opening_rows(world) if x["opening_id"] == theirs.opening_id)
    res = client.post(
        "/v1/feedback",
        json={"participant_id": theirs.participant_id, "opening_id": theirs.opening_id, "event": "hired"},
        headers=auth("liaison", office),
    )
    assert res.status_code == 404
    # The same liaison's own history carries on after the opening is filled.
    from sqlalchemy import update

    with db_engine(world).begin() as conn:
        conn.execute(update(t.openings).where(t.openings.c.opening_id == o["opening_id"]).values(status="filled"))
    try:
        assert client.get(f"/v1/openings/{o['opening_id']}/candidates", headers=me).json()["candidates"] == []
        res = client.post("/v1/feedback", json={**body, "event": "hired"}, headers=me)
        assert res.status_code == 201, res.text
    finally:
        with db_engine(world).begin() as conn:
            conn.execute(update(t.openings).where(t.openings.c.opening_id == o["opening_id"]).values(status="open"))


def test_feedback_refusals(client, auth, pair, world):
    p, o = pair
    ok = {"participant_id": p["participant_id"], "opening_id": o["opening_id"], "event": "hired"}
    other_office = next(x["office_id"] for x in participant_rows(world) if x["office_id"] != p["office_id"])
    res = client.post("/v1/feedback", json=ok, headers=auth("adviser", other_office))
    assert res.status_code == 404 and res.json()["detail"] == f"participant {p['participant_id']!r} not found"
    assert client.post("/v1/feedback", json=ok, headers=auth("batch")).status_code == 403
    res = client.post("/v1/feedback", json={**ok, "participant_id": "P-NOPE"}, headers=auth("admin"))
    assert res.status_code == 404 and "P-NOPE" in res.json()["detail"]
    res = client.post("/v1/feedback", json={**ok, "opening_id": "O-NOPE"}, headers=auth("admin"))
    assert res.status_code == 404 and "O-NOPE" in res.json()["detail"]
    res = client.post("/v1/feedback", json={**ok, "event": "married"}, headers=auth("admin"))
    assert res.status_code == 422 and res.json()["detail"][0]["loc"] == ["body", "event"]
    res = client.post("/v1/feedback", json={**ok, "actor": "someone-else"}, headers=auth("admin"))
    assert res.status_code == 422 and res.json()["detail"][0]["loc"] == ["body", "actor"]


def test_liaison_cannot_record_feedback_about_someone_unrelated_to_the_opening(client, auth, world):
    """Only participants with history for the opening, or listed among its candidates (the
    list a liaison reads, K long). Anyone else gets the same 404 as an id that does not
    exist: the endpoint is no oracle for "is X a candidate here" or "does X exist"."""
    with db_engine(world).connect() as conn:
        history = set(conn.execute(select(t.outcomes.c.participant_id, t.outcomes.c.opening_id)).all())
    openings = [o for o in opening_rows(world) if o["status"] == "open"]
    people = participant_rows(world)
    for o in openings:
        listed = client.get(f"/v1/openings/{o['opening_id']}/candidates", params={"limit": world.top_k}, headers=auth("admin")).json()[
            "candidates"
        ]
        eligible = {c["participant_id"] for c in listed}
        unrelated = next(
            (p for p in people if p["participant_id"] not in eligible and (p["participant_id"], o["opening_id"]) not in history), None
        )
        if eligible and unrelated:
            break
    else:
        pytest.fail("no open opening with both a candidate and an unrelated participant")
    headers = auth("liaison", o["office_id"])
    body = {"opening_id": o["opening_id"], "event": "contacted"}
    res = client.post("/v1/feedback", json=body | {"participant_id": unrelated["participant_id"]}, headers=headers)
    nobody = client.post("/v1/feedback", json=body | {"participant_id": "P-999999"}, headers=headers)
    assert res.status_code == nobody.status_code == 404
    assert res.json()["detail"].replace(unrelated["participant_id"], "X") == nobody.json()["detail"].replace("P-999999", "X")
    ok = client.post(
        "/v1/feedback", json=body | {"participant_id": sorted(eligible)[0], "occurred_at": "2026-11-16T10:00:00"}, headers=headers
    )
    assert ok.status_code == 201, ok.text
