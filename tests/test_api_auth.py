"""Authentication (401) and authorisation (403): roles and office scope on every endpoint."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from pydantic import SecretStr

from api.auth import InvalidToken, create_token, decode_token
from tests.conftest import SECRET, opening_rows, participant_rows


def _raw(claims: dict, secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": "Bearer " + jwt.encode(claims, secret, algorithm="HS256")}


def _claims(**kw) -> dict:
    now = dt.datetime.now(dt.UTC)
    return {"sub": "kari", "role": "admin", "offices": [], "iat": now - dt.timedelta(minutes=1), "exp": now + dt.timedelta(minutes=5)} | kw


BAD_TOKENS = {
    "missing": {},
    "not a bearer scheme": {"Authorization": "Basic a2FyaTpwdw=="},
    "malformed": {"Authorization": "Bearer not-a-jwt"},
    "empty bearer": {"Authorization": "Bearer "},
    "wrong signature": _raw(_claims(), secret="another-secret-" + "x" * 40),
    "expired": _raw(_claims(exp=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))),
    "no expiry": _raw({"sub": "kari", "role": "admin", "offices": []}),
    "unknown role": _raw(_claims(role="root")),
    "offices not a list": _raw(_claims(offices="nav-heimdal")),
    "alg none": {"Authorization": "Bearer " + jwt.encode(_claims(), None, algorithm="none")},
    "no issued-at": _raw({k: v for k, v in _claims().items() if k != "iat"}),
    "lives thirty years": _raw(_claims(exp=dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 30))),
    "exp as text": _raw(_claims(exp="9999999999")),
}


@pytest.mark.parametrize("headers", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_bad_or_missing_token_is_401_with_bearer_challenge(client, headers):
    res = client.get("/v1/openings", headers=headers)
    assert res.status_code == 401
    assert res.headers["www-authenticate"] == "Bearer"
    assert isinstance(res.json()["detail"], str) and res.json()["detail"]


def test_expired_token_says_so(client):
    res = client.get("/v1/openings", headers=BAD_TOKENS["expired"])
    assert "expired" in res.json()["detail"]


def test_a_valid_admin_token_passes(client):
    assert client.get("/v1/openings", headers=_raw(_claims())).status_code == 200


def test_token_roundtrip_and_ttl(world):
    token = create_token("kari", "liaison", ["nav-a", "nav-b"], world, ttl_minutes=3)
    p = decode_token(token, world)
    assert (p.sub, p.role, p.offices) == ("kari", "liaison", frozenset({"nav-a", "nav-b"}))
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert 170 <= claims["exp"] - dt.datetime.now(dt.UTC).timestamp() <= 181
    with pytest.raises(ValueError, match="role"):
        create_token("kari", "boss", [], world)
    with pytest.raises(InvalidToken):
        decode_token(token + "x", world)


def test_healthz_needs_no_token(client):
    res = client.get("/healthz")
    assert res.status_code == 200
    body = res.json()
    assert body["status"] in ("ok", "degraded") and body["database"] == "ok"
    assert body["serving_run_id"] is None and body["model_version"]


# ------------------------------------------------------------------------------ roles


@pytest.fixture(scope="module")
def ids(world):
    p = participant_rows(world)[0]
    o = next(o for o in opening_rows(world) if o["status"] == "open")
    return {"pid": p["participant_id"], "p_office": p["office_id"], "oid": o["opening_id"], "o_office": o["office_id"]}


PROFILE = {"postal_code": "7030", "max_commute_km": 20, "desired_titles": ["x"], "desired_styrk08": ["5223"]}

# (method, path template, roles allowed)
ENDPOINTS = [
    ("GET", "/v1/participants", {"adviser", "admin"}),
    ("GET", "/v1/participants/{pid}", {"adviser", "admin"}),
    ("GET", "/v1/participants/{pid}/matches", {"adviser", "admin"}),
    ("GET", "/v1/participants/{pid}/matches/{oid}", {"adviser", "admin"}),
    ("GET", "/v1/openings/{oid}/candidates", {"liaison", "admin"}),
    ("POST", "/v1/match", {"adviser", "admin"}),
    ("GET", "/v1/audit", {"admin"}),
    ("GET", "/v1/runs", {"batch", "admin"}),
    ("GET", "/v1/openings", {"adviser", "liaison", "batch", "admin"}),
    ("GET", "/v1/openings/{oid}", {"adviser", "liaison", "batch", "admin"}),
]


@pytest.mark.parametrize("role", ["adviser", "liaison", "batch", "admin"])
@pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_roles(client, auth, ids, method, path, allowed, role):
    headers = auth(role, ids["p_office"], ids["o_office"])  # office scope is not what is tested here
    url = path.format(**ids)
    res = client.request(method, url, headers=headers, json=PROFILE if method == "POST" else None)
    if role in allowed:
        assert res.status_code == 200, res.text
    else:
        assert res.status_code == 403, res.text
        assert role in res.json()["detail"]


def _other_office(world, office: str) -> str:
    from tests.conftest import offices_of

    return next(o for o in offices_of(world) if o != office)


@pytest.mark.parametrize("path", ["/v1/participants/{pid}", "/v1/participants/{pid}/matches", "/v1/participants/{pid}/matches/{oid}"])
def test_another_offices_participant_looks_exactly_like_an_unknown_id(client, auth, world, ids, path):
    """No probing which participant ids exist elsewhere: the same 404, the same body."""
    headers = auth("adviser", _other_office(world, ids["p_office"]))
    res = client.get(path.format(**ids), headers=headers)
    unknown = client.get(path.format(**{**ids, "pid": "P-999999"}).replace(ids["pid"], "P-999999"), headers=headers)
    assert res.status_code == unknown.status_code == 404
    assert res.json()["detail"].replace(ids["pid"], "X") == unknown.json()["detail"].replace("P-999999", "X")
    assert ids["p_office"] not in res.json()["detail"]  # says nothing about where the participant belongs


def test_adviser_without_offices_sees_nobody(client, auth, ids):
    assert client.get(f"/v1/participants/{ids['pid']}", headers=auth("adviser")).status_code == 404
    assert client.get("/v1/participants", headers=auth("adviser")).json() == {"items": [], "total": 0}


def test_adviser_cannot_list_another_office(client, auth, world, ids):
    other = _other_office(world, ids["p_office"])
    res = client.get(f"/v1/participants?office={ids['p_office']}", headers=auth("adviser", other))
    assert res.status_code == 403


def test_liaison_for_another_office_opening_is_403(client, auth, world, ids):
    headers = auth("liaison", _other_office(world, ids["o_office"]))
    res = client.get(f"/v1/openings/{ids['oid']}/candidates", headers=headers)
    assert res.status_code == 403
    assert "outside the offices your token covers" in res.json()["detail"]


def test_admin_covers_every_office(client, auth, ids):
    assert client.get(f"/v1/participants/{ids['pid']}", headers=auth("admin")).status_code == 200
    assert client.get(f"/v1/openings/{ids['oid']}/candidates", headers=auth("admin")).status_code == 200


def test_signing_key_never_shows_in_repr_or_dump(world):
    settings = world
    """The key is a SecretStr: a repr, a log line or a dump of the settings does not carry it."""
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert SECRET not in repr(settings.model_dump()) and SECRET not in settings.model_dump_json()
    assert settings.resolved_secret() == SECRET  # signing still gets the real value


@pytest.mark.parametrize("key,environment", [("changeme", "development"), ("short-but-not-weak", "production")])
def test_weak_signing_key_is_refused(world, key, environment):
    weak = world.model_copy(update={"secret_key": SecretStr(key), "environment": environment})
    with pytest.raises(RuntimeError, match="too weak"):
        weak.resolved_secret()
