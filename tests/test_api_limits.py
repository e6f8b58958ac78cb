"""Odd input and greedy callers: never a 500, never a request that hogs the server; the OpenAPI
document declares every status; /docs works offline."""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_token
from tests.test_api_match_feedback import _body, profile  # noqa: F401 - fixture

JSON = {"Content-Type": "application/json"}

# ------------------------------------------------------------------------------ lone surrogates


def _with(raw: dict, field: str, escape: str) -> bytes:
    """`raw` as JSON, with `field` replaced by the raw escape text (json.dumps would not emit it)."""
    marker = "__SURROGATE__"
    text = json.dumps(raw | {field: marker} if not isinstance(raw.get(field), list) else raw | {field: [marker]})
    return text.replace(f'"{marker}"', escape).encode()


SURROGATE = '"\\ud800"'


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/match", "desired_titles"),
        ("/v1/match", "skills"),
        ("/v1/match", "trusted_person"),
        ("/v1/feedback", "reason"),
        ("/v1/feedback", "participant_id"),
    ],
)
def test_a_lone_surrogate_is_a_422_naming_the_field(client, auth, profile, path, field):  # noqa: F811
    base = _body(profile) if path == "/v1/match" else {"participant_id": "P-000001", "opening_id": "O-00001", "event": "contacted"}
    raw = _with(base, field, SURROGATE)
    assert b"\\ud800" in raw
    res = client.post(path, content=raw, headers=auth("admin") | JSON)
    assert res.status_code == 422, res.text
    detail = res.json()["detail"]
    assert any(field in err["loc"] for err in detail), detail
    res.content.decode("utf-8")  # the echo is valid UTF-8


def test_a_lone_surrogate_in_a_key_or_a_deep_value_is_a_422(client, auth):
    for raw in (b'{"\\udfff": 1}', b'{"desired_titles": [[["\\ud800"]]]}', b'{"postal_code": "\\ud800\\udc00\\ud800"}'):
        res = client.post("/v1/match", content=raw, headers=auth("admin") | JSON)
        assert res.status_code == 422, (raw, res.text)
        assert res.json()["detail"]


# ------------------------------------------------------------------------------ body size


def test_a_body_over_the_limit_is_413_before_it_is_parsed(client, auth, world):
    limit = world.max_body_bytes
    big = json.dumps({"postal_code": "7030", "desired_titles": ["x" * limit]}).encode()
    res = client.post("/v1/match", content=big, headers=auth("admin") | JSON)
    assert res.status_code == 413
    assert res.headers["content-type"] == "application/json" and str(limit) in res.json()["detail"]


def test_a_streamed_body_is_counted_not_its_content_length(client, auth, world):
    """Chunked (no Content-Length): the bytes are counted as they arrive."""

    def chunks():
        yield b'{"desired_titles": ["'
        for _ in range(world.max_body_bytes // 1024 + 2):
            yield b"x" * 1024
        yield b'"]}'

    res = client.post("/v1/match", content=chunks(), headers=auth("admin") | JSON)
    assert res.status_code == 413, res.text
    assert "too large" in res.json()["detail"]
    small = client.post(
        "/v1/feedback",
        content=iter([b'{"participant_id": "P-NOPE", ', b'"opening_id": "O-00001", ', b'"event": "contacted"}']),
        headers=auth("admin") | JSON,
    )
    assert small.status_code == 404


@pytest.fixture()
def server(world):
    """The app under uvicorn on a free port of this machine."""
    import uvicorn

    app = create_app(world.model_copy(update={"max_body_bytes": 4096}))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    sock.close()


@pytest.mark.slow
def test_body_limit_on_a_real_server(server, world):
    headers = {"Authorization": "Bearer " + create_token("big", "admin", [], world)} | JSON
    with httpx.Client(base_url=server, timeout=10) as http:
        declared = http.post("/v1/match", content=b"[" + b"1," * 5000 + b"1]", headers=headers)
        assert declared.status_code == 413 and declared.json()["detail"]
        chunked = iter([b"[" + b"1," * 1000] * 10 + [b"1]"])  # no Content-Length: counted as it streams
        streamed = http.post("/v1/match", content=chunked, headers=headers)
        assert streamed.status_code == 413 and streamed.json()["detail"]
        assert http.post("/v1/match", content=b"{}", headers=headers).status_code == 422


# ------------------------------------------------------------------------------ rate limits


@pytest.fixture()
def limited(world):
    return TestClient(create_app(world.model_copy(update={"rate_limit": "8/minute", "rate_limit_live": "2/minute"})))


def test_live_computations_are_rate_limited_per_token_subject(limited, world):
    def headers(sub):
        return {"Authorization": "Bearer " + create_token(sub, "admin", [], world)}

    url = "/v1/participants/P-000001/matches"
    for _ in range(2):
        assert limited.get(url, params={"fresh": "true"}, headers=headers("kari")).status_code == 200
    res = limited.get(url, params={"fresh": "1"}, headers=headers("kari"))
    assert res.status_code == 429
    assert res.headers["content-type"] == "application/json" and "live" in res.json()["detail"]
    assert 1 <= int(res.headers["Retry-After"]) <= 60
    assert limited.post("/v1/match", json={}, headers=headers("kari")).status_code == 429
    # stored lists are not live computations; another subject has its own budget
    assert limited.get(url, headers=headers("kari")).status_code == 200
    assert limited.get(url, params={"fresh": "true"}, headers=headers("ola")).status_code == 200
    assert limited.get("/v1/openings/O-00001/candidates", params={"fresh": "yes"}, headers=headers("ola")).status_code == 200
    assert limited.get("/v1/openings/O-00001/candidates", params={"fresh": "on"}, headers=headers("ola")).status_code == 429


def test_every_v1_request_counts_and_anonymous_callers_are_keyed_by_address(limited, world):
    token = {"Authorization": "Bearer " + create_token("per", "admin", [], world)}
    statuses = [limited.get("/v1/openings", params={"limit": 1}, headers=token).status_code for _ in range(9)]
    assert statuses == [200] * 8 + [429]
    anonymous = [limited.get("/v1/openings").status_code for _ in range(9)]
    assert anonymous == [401] * 8 + [429]
    forged = {"Authorization": "Bearer not-a-token"}
    assert limited.get("/v1/openings", headers=forged).status_code == 429  # same address, no valid subject
    assert limited.get("/healthz").status_code == 200  # health and docs are not limited


# ------------------------------------------------------------------------------ OpenAPI, docs


def test_every_operation_declares_its_error_statuses_with_a_json_detail(client):
    spec = client.get("/openapi.json").json()
    expected = {
        ("get", "/v1/participants"): {401, 403, 422, 429, 503},
        ("get", "/v1/participants/{participant_id}"): {401, 403, 404, 422, 429, 503},
        ("get", "/v1/participants/{participant_id}/matches"): {400, 401, 403, 404, 409, 422, 429, 503},
        ("get", "/v1/participants/{participant_id}/matches/{opening_id}"): {401, 403, 404, 422, 429, 503},
        ("get", "/v1/openings"): {401, 422, 429, 503},
        ("get", "/v1/openings/{opening_id}"): {401, 404, 422, 429, 503},
        ("get", "/v1/openings/{opening_id}/candidates"): {401, 403, 404, 422, 429, 503},
        ("post", "/v1/match"): {401, 403, 413, 422, 429, 503},
        ("post", "/v1/feedback"): {401, 403, 404, 409, 413, 422, 429, 503},
        ("get", "/v1/audit"): {401, 403, 422, 429, 503},
        ("get", "/v1/runs"): {401, 403, 422, 429, 503},
        ("get", "/v1/taxonomy/occupations"): {401, 422, 429},
        ("get", "/healthz"): {503},
    }
    schemas = spec["components"]["schemas"]
    for (method, path), codes in expected.items():
        responses = spec["paths"][path][method]["responses"]
        errors = {int(c) for c in responses if c.startswith(("4", "5"))}
        assert errors == codes, (method, path, errors)
        for code in codes - {503} if path == "/healthz" else codes:
            ref = responses[str(code)]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            assert "detail" in schemas[ref]["required"], (path, code)
        if 429 in codes:
            assert responses["429"]["headers"]["Retry-After"]["required"] is True


def test_the_document_carries_patterns_and_zoned_times(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    summary = schemas["ParticipantSummary"]["properties"]
    assert summary["postal_code"]["pattern"] == r"^[0-9]{4}$"
    assert summary["desired_styrk08"]["items"]["pattern"] == r"^[0-9]{4}$"
    assert summary["participant_id"]["pattern"].startswith("^[A-Za-z0-9]")
    assert schemas["OpeningSummary"]["properties"]["orgnr"]["pattern"] == r"^[0-9]{9}$"
    assert schemas["FeedbackIn"]["properties"]["participant_id"]["pattern"]
    params = spec["paths"]["/v1/participants/{participant_id}/matches/{opening_id}"]["get"]["parameters"]
    assert {p["name"]: p["schema"]["pattern"] for p in params if p["in"] == "path"}.keys() == {"participant_id", "opening_id"}
    assert schemas["Run"]["properties"]["started_at"]["format"] == "date-time"


def test_response_times_carry_a_zone(pub_client, auth):
    runs = pub_client.get("/v1/runs", headers=auth("admin")).json()["items"]
    audit = pub_client.get("/v1/audit", params={"limit": 5}, headers=auth("admin")).json()["items"]
    stamps = [r["started_at"] for r in runs] + [r["finished_at"] for r in runs if r["finished_at"]]
    stamps += [a["at"] for a in audit]
    assert stamps and all(re.search(r"(Z|[+-]\d\d:\d\d)$", s) for s in stamps), stamps


def test_odd_path_ids_are_a_422_naming_the_parameter(client, auth):
    res = client.get("/v1/participants/P 1/matches/O-1", headers=auth("admin"))
    assert res.status_code == 422 and res.json()["detail"][0]["loc"] == ["path", "participant_id"]
    res = client.get("/v1/openings/%C3%B8", headers=auth("admin"))
    assert res.status_code == 422 and res.json()["detail"][0]["loc"] == ["path", "opening_id"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_use_only_local_assets(client, page):
    res = client.get(page)
    assert res.status_code == 200
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", res.text)
    urls += re.findall(r"""url\s*:\s*["']([^"']+)["']""", res.text)
    assert urls and not [u for u in urls if re.match(r"(https?:)?//", u)], urls
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)[^\s\"']*\.(js|css)", res.text)
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200 and asset.content, url
    assert any(u.endswith(".js") for u in urls)
