"""Openings, the OpenAPI document, /metrics, and odd input that must never give a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.auth import create_token
from tests.conftest import opening_rows


def test_openings_list_and_filters(client, auth, world):
    rows = opening_rows(world)
    headers = auth("liaison")
    body = client.get("/v1/openings", params={"limit": 1000}, headers=headers).json()
    assert body["total"] == len(rows) == len(body["items"])
    first = body["items"][0]
    assert {"opening_id", "employer_name", "title", "kind", "styrk08", "status", "office_id"} <= set(first)
    for params, keep in [
        ({"status": "open"}, lambda o: o["status"] == "open"),
        ({"kind": "trial"}, lambda o: o["kind"] == "trial"),
        ({"office": rows[0]["office_id"], "kind": "job"}, lambda o: o["office_id"] == rows[0]["office_id"] and o["kind"] == "job"),
    ]:
        got = client.get("/v1/openings", params={"limit": 1000, **params}, headers=headers).json()
        expected = sorted(o["opening_id"] for o in rows if keep(o))
        assert got["total"] == len(expected)
        assert sorted(i["opening_id"] for i in got["items"]) == expected
    for bad in ({"status": "lost"}, {"kind": "any"}):
        assert client.get("/v1/openings", params=bad, headers=headers).status_code == 422


def test_one_opening(client, auth, world):
    row = opening_rows(world)[0]
    res = client.get(f"/v1/openings/{row['opening_id']}", headers=auth("batch"))
    assert res.status_code == 200
    body = res.json()
    assert body["opening_id"] == row["opening_id"] and body["styrk08"] == row["styrk08"]
    assert body["required_licences"] == row["required_licences"] and body["employer_name"]


def test_openapi_and_docs(client):
    spec = client.get("/openapi.json").json()
    for path in (
        "/v1/participants",
        "/v1/participants/{participant_id}/matches",
        "/v1/match",
        "/v1/feedback",
        "/v1/openings/{opening_id}/candidates",
        "/v1/audit",
        "/v1/runs",
        "/healthz",
    ):
        assert path in spec["paths"], path
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_openapi_lists_every_run_status(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    status = schemas["Run"]["properties"]["status"]
    status = schemas[status["$ref"].rsplit("/", 1)[1]] if "$ref" in status else status
    assert set(status["enum"]) == {"running", "publishing", "published", "failed", "abandoned", "pruned"}


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text body (0 when absent)."""
    want = {f'{k}="{v}"' for k, v in labels.items()}
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and want <= set(line[len(name) + 1 : line.rindex("}")].split(",")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_by_route_template(client, auth, world):
    pid = "P-METRICS-PROBE"
    route = "/v1/participants/{participant_id}"
    before = client.get("/metrics").text
    for _ in range(3):
        client.get(f"/v1/participants/{pid}", headers=auth("admin"))
    client.request("BREW", "/healthz")  # an odd method is "other", not a new label value
    res = client.get("/metrics")
    text = res.text
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/plain")
    assert "# TYPE matching_http_requests_total counter" in text
    assert "# TYPE matching_http_request_duration_seconds histogram" in text
    count = {"method": "GET", "route": route, "status": "404"}
    assert _sample(text, "matching_http_requests_total", **count) == _sample(before, "matching_http_requests_total", **count) + 3
    latency = {"method": "GET", "route": route}
    n = _sample(text, "matching_http_request_duration_seconds_count", **latency)
    assert n == _sample(before, "matching_http_request_duration_seconds_count", **latency) + 3
    assert _sample(text, "matching_http_request_duration_seconds_bucket", le="+Inf", **latency) == n
    assert _sample(text, "matching_http_request_duration_seconds_sum", **latency) > 0
    assert 'method="other"' in text and "BREW" not in text
    assert pid not in text  # the route template, never the path with the id


# One app in a process of its own, with the multiprocess directory set before prometheus_client
# is imported: what each worker of `matching serve --workers N` does.
WORKER = """
import sys
from fastapi.testclient import TestClient
from api.app import create_app
from matching.config import Settings

app = create_app(Settings(database_url=sys.argv[1], secret_key="m" * 48, environment="test"))
client = TestClient(app)
for _ in range(int(sys.argv[2])):
    assert client.get("/v2/nothing").status_code == 404
print(client.get("/metrics").text)
"""


def test_metrics_add_up_every_worker_process(tmp_path):
    import os
    import subprocess
    import sys

    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    outputs = [
        subprocess.run([sys.executable, "-c", WORKER, url, str(n)], env=env, capture_output=True, text=True, check=True, timeout=120).stdout
        for n in (2, 3)
    ]
    labels = {"method": "GET", "route": "(unmatched)", "status": "404"}
    assert _sample(outputs[0], "matching_http_requests_total", **labels) == 2
    assert _sample(outputs[1], "matching_http_requests_total", **labels) == 5  # both processes
    assert _sample(outputs[1], "matching_http_request_duration_seconds_count", method="GET", route="(unmatched)") == 5
    assert _sample(outputs[1], "matching_http_requests_total", method="GET", route="/metrics", status="200") == 1


def test_unknown_route_is_a_json_404(client):
    res = client.get("/v2/nothing")
    assert res.status_code == 404 and res.json()["detail"]


# ------------------------------------------------------------------------------ never a 500

ODD_IDS = ["", " ", "..", "%2e%2e%2fetc", "P-000001'; DROP TABLE participants;--", "ø" * 300, "%00", "P-1?x=1", "🙂", "null", "0" * 5000]


@pytest.mark.parametrize("value", ODD_IDS)
def test_odd_ids_never_give_a_500(client, auth, value):
    headers = auth("admin")
    for path in (
        "/v1/participants/{x}",
        "/v1/participants/{x}/matches",
        "/v1/participants/{x}/matches/{x}",
        "/v1/openings/{x}",
        "/v1/openings/{x}/candidates",
    ):
        res = client.get(path.replace("{x}", value), headers=headers)
        assert res.status_code in (200, 307, 404, 422), (path, value, res.status_code)
        assert "detail" in res.json() or res.status_code == 200


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["limit", "offset", "kind", "lang", "fresh", "office", "status"]),
        st.one_of(st.text(max_size=12), st.integers(-(10**12), 10**12).map(str)),
        max_size=4,
    )
)
def test_odd_query_strings_never_give_a_500(client, auth, world, params):
    pid = "P-NO-SUCH"
    oid = opening_rows(world)[0]["opening_id"]
    headers = auth("admin")
    for url in (
        "/v1/participants",
        f"/v1/participants/{pid}/matches",
        "/v1/openings",
        f"/v1/openings/{oid}/candidates",
        "/v1/audit",
        "/v1/runs",
    ):
        res = client.get(url, params=params, headers=headers)
        assert res.status_code in (200, 404, 422), (url, params, res.text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "postal_code",
                "max_commute_km",
                "desired_titles",
                "desired_styrk08",
                "adaptation_needs",
                "experience",
                "goal",
                "available_from",
                "skills",
            ]
        ),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
            lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=2),
            max_leaves=5,
        ),
        max_size=6,
    )
)
def test_odd_profiles_never_give_a_500(client, auth, body):
    res = client.post("/v1/match", json=body, headers=auth("adviser"))
    assert res.status_code in (200, 422), res.text


# ------------------------------------------------------------------------------ health


def test_without_a_model_health_is_degraded_and_live_matching_is_503(world, tmp_path, auth):
    from fastapi.testclient import TestClient

    from api.app import create_app

    client = TestClient(create_app(world.model_copy(update={"model_dir": tmp_path / "no-models"})))
    assert client.get("/healthz").json() == {"status": "degraded", "database": "ok", "serving_run_id": None, "model_version": None}
    res = client.post(
        "/v1/match",
        json={"postal_code": "7030", "max_commute_km": 10, "desired_titles": ["x"], "desired_styrk08": ["5223"]},
        headers=auth("admin"),
    )
    assert res.status_code == 503 and "model" in res.json()["detail"]


def test_unreachable_database_is_503(world, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    client = TestClient(create_app(world.model_copy(update={"database_url": f"sqlite:///{blocker}/x/db.sqlite"})))
    res = client.get("/healthz")
    assert res.status_code == 503
    assert res.json()["status"] == "unavailable" and res.json()["database"] == "unreachable"
    token = create_token("kari", "admin", [], world)
    res = client.get("/v1/openings", headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 503 and res.json() == {"detail": "database unavailable"}


def test_huge_offsets_and_implausible_event_times_are_422_not_500(client, auth):
    for url in ("/v1/participants", "/v1/openings", "/v1/audit", "/v1/runs"):
        res = client.get(url, params={"offset": 99999999999999999999}, headers=auth("admin"))
        assert res.status_code == 422, (url, res.text)
    for when in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "1999-12-31T00:00:00"):
        res = client.post(
            "/v1/feedback",
            json={"participant_id": "P-000001", "opening_id": "O-00001", "event": "contacted", "occurred_at": when},
            headers=auth("admin"),
        )
        assert res.status_code == 422, (when, res.text)
        assert "occurred_at" in res.text
