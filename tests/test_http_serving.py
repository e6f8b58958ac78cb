"""The HTTP path's shortcuts keep their promises: a cached token still expires, every read is
audited before its answer leaves (group commit), a read whose audit cannot be written is not
answered, and `matching serve --workers 2` (gunicorn, forked after the snapshot) answers and
spreads connections over its workers."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api import auth as auth_module
from api.app import create_app
from api.auth import InvalidToken, create_token, decode_token
from tests.conftest import ROOT, SECRET, TODAY, _copy_db, children, participant_rows, settings_for


def _token(settings, seconds: int, sub: str = "kari") -> tuple[str, float]:
    now = int(time.time())
    claims = {"sub": sub, "role": "admin", "offices": [], "iat": now, "exp": now + seconds}
    return jwt.encode(claims, settings.resolved_secret(), algorithm=auth_module.ALGORITHM), float(now + seconds)


def test_a_cached_token_stops_working_when_it_expires(world, monkeypatch):
    token, exp = _token(world, 600, sub="expiring")
    assert decode_token(token, world).sub == "expiring"  # verified, now cached
    assert decode_token(token, world).sub == "expiring"
    monkeypatch.setattr(auth_module, "_clock", lambda: exp)
    with pytest.raises(InvalidToken, match="expired"):
        decode_token(token, world)
    client = TestClient(create_app(world))
    res = client.get("/v1/offices", headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 401 and "expired" in res.json()["detail"]
    monkeypatch.setattr(auth_module, "_clock", lambda: exp - 1)
    assert client.get("/v1/offices", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_cached_token_is_not_accepted_under_another_secret(world):
    token = create_token("cached", "admin", [], world)
    assert decode_token(token, world).sub == "cached"
    other = world.model_copy(update={"secret_key": SecretStr("x" * 48)})
    with pytest.raises(InvalidToken, match="signature"):
        decode_token(token, other)


@pytest.fixture()
def own_published(published, tmp_path):
    """A copy of the published database of its own (these tests count and break its audit log)."""
    path = tmp_path / "own.db"
    _copy_db(Path(published.settings.database_url.removeprefix("sqlite:///")), path)
    return settings_for(path, published.settings.model_dir)


def _audit_rows(settings, sub: str) -> list[tuple[str, str]]:
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT action, participant_id FROM audit_log WHERE sub = ?", (sub,)).fetchall()


def test_every_concurrent_read_is_audited_before_its_answer(own_published):
    settings = own_published
    client = TestClient(create_app(settings))
    people = participant_rows(settings)[:24]

    def read(i: int) -> tuple[str, int, list]:
        p = people[i]
        sub = f"reader-{i}"
        headers = {"Authorization": "Bearer " + create_token(sub, "adviser", [p["office_id"]], settings)}
        path = f"/v1/participants/{p['participant_id']}" + ("/matches" if i % 2 else "")
        res = client.get(path, headers=headers)
        return p["participant_id"], res.status_code, _audit_rows(settings, sub)  # read as soon as the answer is in

    with ThreadPoolExecutor(8) as pool:
        done = list(pool.map(read, range(len(people))))
    for i, (pid, status, rows) in enumerate(done):
        assert status == 200
        assert rows == [("read_matches" if i % 2 else "read_profile", pid)]
    # a refused read too: another office's participant is a 404, audited before it is answered
    p = people[0]
    other = next(o["office_id"] for o in participant_rows(settings) if o["office_id"] != p["office_id"])
    headers = {"Authorization": "Bearer " + create_token("refused-reader", "adviser", [other], settings)}
    assert client.get(f"/v1/participants/{p['participant_id']}/matches", headers=headers).status_code == 404
    assert _audit_rows(settings, "refused-reader") == [("refused GET /v1/participants/{participant_id}/matches", p["participant_id"])]


def test_a_read_whose_audit_cannot_be_committed_is_not_answered(own_published):
    settings = own_published
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    p = participant_rows(settings)[0]
    headers = {"Authorization": "Bearer " + create_token("blocked", "adviser", [p["office_id"]], settings)}
    assert client.get(f"/v1/participants/{p['participant_id']}/matches", headers=headers).status_code == 200
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as conn:
        conn.execute("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END")
    for path in (f"/v1/participants/{p['participant_id']}/matches", f"/v1/participants/{p['participant_id']}"):
        res = client.get(path, headers=headers)
        assert res.status_code == 503, res.text
        assert res.json() == {"detail": "audit log unavailable; try again later"}
    assert _audit_rows(settings, "blocked") == [("read_matches", p["participant_id"])]


@pytest.mark.slow
def test_serve_with_two_workers_shares_the_snapshot_and_answers(published, tmp_path):
    path = tmp_path / "serve.db"
    _copy_db(Path(published.settings.database_url.removeprefix("sqlite:///")), path)
    settings = settings_for(path, published.settings.model_dir)
    with socket_port() as port:
        pass
    env = {
        **os.environ,
        "MATCHING_DATABASE_URL": settings.database_url,
        "MATCHING_SECRET_KEY": SECRET,
        "MATCHING_ENVIRONMENT": "test",
        "MATCHING_TODAY": TODAY.isoformat(),
        "MATCHING_MODEL_DIR": str(settings.model_dir),
        "MATCHING_TOP_K": "10",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "matching.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        while len(workers := children(server.pid)) < 2 and time.monotonic() < deadline:  # one may answer before the other booted
            time.sleep(0.3)
        assert len(workers) == 2, log.read_text()
        p = participant_rows(settings)[0]
        headers = {"Authorization": "Bearer " + create_token("two-workers", "adviser", [p["office_id"]], settings)}
        with httpx.Client(base_url=base, timeout=120) as http:
            for fresh in ("false", "true") * 4:
                res = http.get(f"/v1/participants/{p['participant_id']}/matches", params={"fresh": fresh}, headers=headers)
                assert res.status_code == 200, res.text
                assert (res.json()["run_id"] is None) == (fresh == "true")
            assert _audit_rows(settings, "two-workers") == [("read_matches", p["participant_id"])] * 8  # before the answers
            # Summed over both workers. A request is counted just after its answer is sent, so
            # the last one may not be in yet when the other worker answers /metrics: ask again.
            counted = 'route="/v1/participants/{participant_id}/matches",status="200"} 8.0'
            deadline = time.monotonic() + 10
            while counted not in (metrics := http.get("/metrics").text) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert counted in metrics
        assert "built before forking the workers" in log.read_text()
        # Keep-alive connections opened at once spread over both workers (api/balance.py): an
        # event loop left alone accepts every waiting connection when it wakes, so one worker
        # held them all and the other idled.
        time.sleep(0.5)  # the client's connection above is closed on both ends
        before = {w: _open_sockets(w) for w in workers}
        conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
        try:
            deadline = time.monotonic() + 10
            while sum(held := [_open_sockets(w) - before[w] for w in workers]) < 8 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert sum(held) == 8 and min(held) >= 3, held
        finally:
            for conn in conns:
                conn.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
    assert server.returncode == 0, log.read_text()


def _open_sockets(pid: int) -> int:
    """The sockets a process holds open (its listening socket and its connections)."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:  # closed meanwhile
            pass
    return n


class socket_port:
    """A free TCP port on 127.0.0.1 (released on exit, for the server to bind)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


def test_a_stored_read_explains_only_what_it_shows_and_shows_the_same(published, monkeypatch):
    """Explaining only the rows a (kind, limit) read shows gives the answer explaining the whole
    stored list gave, for every kind and several limits."""
    from matching import serving
    from tests.conftest import db_engine

    settings = published.settings
    people = [p["participant_id"] for p in participant_rows(settings)[:40]]
    asks = [(kind, limit) for kind in ("any", "job", "trial") for limit in (1, 3, 10, 50)]
    with db_engine(settings).connect() as conn:
        shown = {(p, a): serving.participant_matches(conn, settings, p, kind=a[0], limit=a[1], fresh=False) for p in people for a in asks}
        everything = serving._from_quoted
        monkeypatch.setattr(serving, "_from_quoted", lambda *args: everything(*args[:5]))  # shown=None: explain all
        for (p, (kind, limit)), got in shown.items():
            assert got == serving.participant_matches(conn, settings, p, kind=kind, limit=limit, fresh=False)
    assert any(out["run_id"] and out["matches"] for out in shown.values())


def test_a_worker_leaves_a_connection_to_a_less_loaded_sibling_but_not_for_long(monkeypatch):
    """api/balance.py: a worker holding more connections than a live sibling does not accept,
    unless the connection has waited PATIENCE (the sibling may be busy or stuck)."""
    import asyncio

    from api import balance

    monkeypatch.setattr(balance, "PATIENCE", 0.5)  # long enough to look in between on a busy box

    slots = balance.Slots(3)
    assert [slots.claim(), slots.claim()] == [0, 1]
    slots.pids[0], slots.pids[1] = os.getpid(), os.getpid()  # two live workers
    slots.counts[0], slots.counts[1] = 2, 1
    assert not slots.may_accept(0) and slots.may_accept(1)
    slots.release(os.getpid())
    assert list(slots.pids) == [0, 0, 0] and slots.may_accept(0)
    slots.pids[0], slots.pids[1], slots.counts[0] = os.getpid(), os.getpid(), 2

    accepted: list[float] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):
            accepted.append(time.monotonic())
            transport.close()

    async def scenario() -> float:
        with socket.create_server(("127.0.0.1", 0)) as sock:
            listener = balance._Listener(sock, Probe, slots, 0)
            try:
                start = time.monotonic()
                client = socket.create_connection(sock.getsockname())
                await asyncio.sleep(0.1)
                assert accepted == []  # left to the sibling with fewer connections
                while not accepted and time.monotonic() < start + 5:
                    await asyncio.sleep(0.002)
                client.close()
                return accepted[0] - start
            finally:
                listener.close()

    waited = asyncio.run(scenario())
    assert balance.PATIENCE <= waited < 5  # then taken all the same
