"""Reading back what was recorded (issue 11): the outcome timelines of a participant and of an
opening, employer contacts for staff, the offices, and POST /v1/match taking a profile exactly
as GET /v1/participants/{id} returns it. Role- and office-scoped, and audited."""

from __future__ import annotations

from sqlalchemy import func, select

from matching.store import tables as t
from tests.conftest import db_engine, opening_rows, participant_rows


def _audit_rows(settings, sub: str) -> list[dict]:
    with db_engine(settings).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t.audit_log).where(t.audit_log.c.sub == sub).order_by(t.audit_log.c.id))]


def _with_events(settings) -> tuple[dict, list[dict]]:
    """A participant with several recorded events, and those events."""
    with db_engine(settings).connect() as conn:
        pid = (
            conn.execute(
                select(t.outcomes.c.participant_id)
                .group_by(t.outcomes.c.participant_id)
                .order_by(func.count().desc(), t.outcomes.c.participant_id)
            )
            .scalars()
            .first()
        )
        events = [dict(r._mapping) for r in conn.execute(select(t.outcomes).where(t.outcomes.c.participant_id == pid))]
    return next(p for p in participant_rows(settings) if p["participant_id"] == pid), events


def test_an_adviser_reads_a_participants_timeline_newest_first_and_it_is_audited(client, auth, world):
    p, stored = _with_events(world)
    res = client.get(f"/v1/participants/{p['participant_id']}/events", headers=auth("adviser", p["office_id"], sub="timeline-reader"))
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["total"] == len(stored) and len(body["items"]) == min(50, len(stored))
    assert {e["event_id"] for e in body["items"]} <= {e["event_id"] for e in stored}
    times = [e["occurred_at"] for e in body["items"]]
    assert times == sorted(times, reverse=True) and all(x.endswith("Z") for x in times)
    assert all(e["title"] and e["employer_name"] and e["orgnr"] for e in body["items"])
    rows = _audit_rows(world, "timeline-reader")
    assert [(r["action"], r["participant_id"]) for r in rows] == [("read_events", p["participant_id"])]


def test_another_offices_participants_timeline_is_the_same_404_as_an_unknown_id_and_audited(client, auth, world):
    p, _ = _with_events(world)
    other = next(o for o in ("nav-heimdal", "nav-melhus", "nav-skaun") if o != p["office_id"])
    res = client.get(f"/v1/participants/{p['participant_id']}/events", headers=auth("adviser", other, sub="prober"))
    unknown = client.get("/v1/participants/P-999999/events", headers=auth("adviser", other, sub="prober"))
    assert res.status_code == unknown.status_code == 404
    assert res.json()["detail"].replace(p["participant_id"], "X") == unknown.json()["detail"].replace("P-999999", "X")
    rows = _audit_rows(world, "prober")
    assert [(r["action"], r["participant_id"]) for r in rows] == [
        ("refused GET /v1/participants/{participant_id}/events", p["participant_id"]),
        ("refused GET /v1/participants/{participant_id}/events", "P-999999"),
    ]


def test_wrong_roles_are_refused_the_participants_timeline(client, auth, world):
    p, _ = _with_events(world)
    for role in ("liaison", "batch"):
        res = client.get(f"/v1/participants/{p['participant_id']}/events", headers=auth(role, p["office_id"]))
        assert res.status_code == 403, role
    assert client.get(f"/v1/participants/{p['participant_id']}/events").status_code == 401


def test_an_openings_timeline_by_role_and_office(client, auth, world):
    _, stored = _with_events(world)
    oid = stored[0]["opening_id"]
    opening = next(o for o in opening_rows(world) if o["opening_id"] == oid)
    with db_engine(world).connect() as conn:
        on_opening = [dict(r._mapping) for r in conn.execute(select(t.outcomes).where(t.outcomes.c.opening_id == oid))]
    office_of = {p["participant_id"]: p["office_id"] for p in participant_rows(world)}

    res = client.get(f"/v1/openings/{oid}/events", headers=auth("liaison", opening["office_id"], sub="liaison-reader"))
    assert res.status_code == 200, res.text
    assert res.json()["total"] == len(on_opening)
    rows = _audit_rows(world, "liaison-reader")
    assert {r["participant_id"] for r in rows} == {e["participant_id"] for e in on_opening}
    assert {(r["action"], r["opening_id"]) for r in rows} == {("read_opening_events", oid)}

    other = next(o for o in ("nav-heimdal", "nav-melhus", "nav-skaun") if o != opening["office_id"])
    res = client.get(f"/v1/openings/{oid}/events", headers=auth("liaison", other, sub="liaison-other"))
    assert res.status_code == 403
    assert [r["action"] for r in _audit_rows(world, "liaison-other")] == ["refused GET /v1/openings/{opening_id}/events"]

    # an adviser reads only the events of their own offices' participants
    office = office_of[on_opening[0]["participant_id"]]
    res = client.get(f"/v1/openings/{oid}/events", headers=auth("adviser", office))
    assert res.status_code == 200
    assert {e["participant_id"] for e in res.json()["items"]} == {
        e["participant_id"] for e in on_opening if office_of[e["participant_id"]] == office
    }
    assert client.get(f"/v1/openings/{oid}/events", headers=auth("batch")).status_code == 403
    assert client.get("/v1/openings/O-NOPE/events", headers=auth("admin")).status_code == 404


def test_staff_see_the_employers_contact_and_the_batch_role_does_not(client, auth, world):
    with db_engine(world).connect() as conn:
        oid, name, email = conn.execute(
            select(t.openings.c.opening_id, t.employers.c.contact_name, t.employers.c.contact_email)
            .join(t.employers, t.employers.c.orgnr == t.openings.c.orgnr)
            .where(t.employers.c.contact_email.is_not(None))
            .order_by(t.openings.c.opening_id)
        ).first()
    for role in ("adviser", "liaison", "admin"):
        body = client.get(f"/v1/openings/{oid}", headers=auth(role, "nav-heimdal")).json()
        assert (body["contact_name"], body["contact_email"]) == (name, email), role
    body = client.get(f"/v1/openings/{oid}", headers=auth("batch")).json()
    assert body["contact_name"] is None and body["contact_email"] is None


def test_offices_are_listed_for_any_role(client, auth, world):
    res = client.get("/v1/offices", headers=auth("liaison"))
    assert res.status_code == 200
    body = res.json()
    assert body["total"] == len(body["items"]) == 9
    assert {"office_id": "nav-heimdal", "name": "NAV Heimdal"}.items() <= body["items"][0].items() or any(
        o["office_id"] == "nav-heimdal" and o["name"] == "NAV Heimdal" for o in body["items"]
    )
    assert client.get("/v1/offices").status_code == 401


def test_participants_carry_their_adviser(client, auth, world):
    p = participant_rows(world)[0]
    assert p["adviser_id"], "the fixtures assign every participant an adviser"
    body = client.get(f"/v1/participants/{p['participant_id']}", headers=auth("adviser", p["office_id"])).json()
    assert body["adviser_id"] == p["adviser_id"]
    listed = client.get("/v1/participants", params={"limit": 1}, headers=auth("adviser", p["office_id"])).json()
    assert "adviser_id" in listed["items"][0]


def test_what_get_participant_returns_can_be_posted_to_match_as_is(client, auth, world):
    p = next(p for p in participant_rows(world) if p["adaptation_needs"])
    headers = auth("adviser", p["office_id"])
    detail = client.get(f"/v1/participants/{p['participant_id']}", headers=headers).json()
    assert "registered_at" in detail
    res = client.post("/v1/match", params={"limit": 5}, json=detail, headers=headers)
    assert res.status_code == 200, res.text
    stored = client.get(f"/v1/participants/{p['participant_id']}/matches", params={"limit": 5, "fresh": "true"}, headers=headers).json()
    assert [m["opening_id"] for m in res.json()["matches"]] == [m["opening_id"] for m in stored["matches"]]
    # a changed wish re-ranks; an unknown field is still refused
    res2 = client.post("/v1/match", params={"limit": 5}, json=detail | {"max_commute_km": 2}, headers=headers)
    assert res2.status_code == 200
    assert client.post("/v1/match", json=detail | {"shoe_size": 44}, headers=headers).status_code == 422
    # an office that does not exist is a typo, not "no office": refused
    res3 = client.post("/v1/match", json=detail | {"office_id": "nav-atlantis"}, headers=headers)
    assert res3.status_code == 422
    assert res3.json()["detail"][0]["loc"] == ["body", "office_id"]
    # no office at all is still accepted (a what-if without an office)
    assert client.post("/v1/match", json=detail | {"office_id": None}, headers=headers).status_code == 200
