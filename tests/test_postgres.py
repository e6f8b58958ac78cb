"""The same load → refresh → API path on a real PostgreSQL server.

A throw-away cluster is created with the machine's `initdb`/`pg_ctl` (run as the `postgres`
user when the tests run as root) on a Unix socket in a temporary directory. Where no
PostgreSQL server binaries exist the module is skipped with the reason; on this project's
machines they do, so CI runs it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from matching.config import Settings
from matching.store import tables as t
from matching.store import versioning
from matching.store.db import make_engine
from matching.store.load import LoadError, load_directory

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "data" / "fixtures"
PORT = 55433

pytestmark = pytest.mark.slow


def _pg_bin(name: str) -> str | None:
    """A PostgreSQL server binary: on PATH, or where Debian's `postgresql` package puts it
    (`make test` installs that package when missing)."""
    found = shutil.which(name)
    if found:
        return found
    debian = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(debian[-1]) if debian else None


def _as_postgres(args: list[str]) -> list[str]:
    args = [_pg_bin(args[0]) or args[0], *args[1:]]
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@pytest.fixture(scope="module")
def pg_url():
    if not (_pg_bin("initdb") and _pg_bin("pg_ctl")):
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    pytest.importorskip("psycopg")
    # Not under pytest's tmp dir: that is private to root and the server runs as `postgres`.
    base = Path(tempfile_dir := tempfile.mkdtemp(prefix="matching-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    data = base / "data"
    subprocess.run(_as_postgres(["initdb", "-D", str(data), "-A", "trust", "-U", "postgres"]), check=True, capture_output=True)
    subprocess.run(
        _as_postgres(
            ["pg_ctl", "-D", str(data), "-w", "-l", str(base / "log"), "-o", f"-k {tempfile_dir} -p {PORT} -c listen_addresses=''", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            ["psql", "-h", tempfile_dir, "-p", str(PORT), "-U", "postgres", "-c", "CREATE DATABASE matching"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@/matching?host={tempfile_dir}&port={PORT}"
    finally:
        subprocess.run(_as_postgres(["pg_ctl", "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_load_refresh_and_serve_on_postgres(pg_url, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import create_token
    from matching.batch import refresh

    settings = Settings(
        database_url=pg_url, today=dt.date(2026, 11, 16), model_dir=ROOT / "models", secret_key="p" * 48, top_k=10, environment="test"
    )
    engine = make_engine(pg_url)
    make_engine(pg_url).dispose()  # the data-version triggers install idempotently
    with engine.connect() as conn:
        before = versioning.current(conn)
    load_directory(engine, FIXTURES)
    with engine.connect() as conn:
        assert versioning.current(conn) > before  # statement-level triggers on PostgreSQL
    load_directory(engine, FIXTURES)  # idempotent on PostgreSQL's upsert too

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "offices.csv").write_text("office_id,name,municipality_code,postal_code\nnav-x,NAV X,5001,0000\n", encoding="utf-8")
    with pytest.raises(LoadError, match="postal"):
        load_directory(engine, bad)

    summary = refresh(settings, db=engine)
    with engine.connect() as conn:
        assert conn.execute(select(t.serving.c.run_id)).scalar() == summary.run_id
        pid, office = conn.execute(
            select(t.participant_lists.c.participant_id, t.participants.c.office_id)
            .join(t.participants, t.participants.c.participant_id == t.participant_lists.c.participant_id)
            .limit(1)
        ).one()
        assert conn.execute(select(func.count()).select_from(t.offices).where(t.offices.c.office_id == "nav-x")).scalar() == 0

    client = TestClient(create_app(settings))
    headers = {"Authorization": "Bearer " + create_token("kari", "adviser", [office], settings)}
    res = client.get(f"/v1/participants/{pid}/matches", params={"limit": 5}, headers=headers)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["run_id"] == summary.run_id and 1 <= len(body["matches"]) <= 5
    fresh = client.get(f"/v1/participants/{pid}/matches", params={"limit": 5, "fresh": "true"}, headers=headers).json()
    assert [(m["opening_id"], m["score"]) for m in fresh["matches"]] == [(m["opening_id"], m["score"]) for m in body["matches"]]

    # "was any of these rows written since?" on PostgreSQL's own statement (keys as JSON arrays)
    listed = [m["opening_id"] for m in body["matches"]]
    with engine.connect() as conn:
        v = versioning.current(conn)
        assert not versioning.changed_since(conn, v, participants=[pid], openings=listed, employers=[])
    with engine.begin() as conn:
        conn.execute(t.openings.update().where(t.openings.c.opening_id == listed[-1]).values(hours_per_week=t.openings.c.hours_per_week))
    with engine.connect() as conn:
        assert versioning.changed_since(conn, v, openings=listed)
        assert versioning.changed_since(conn, v, participants=["nobody"], openings=[listed[-1]])
        assert not versioning.changed_since(conn, v, participants=[pid], openings=listed[:-1])
    engine.dispose()


def test_a_release_database_is_migrated_on_postgres(pg_url):
    """A database with the release-before-migrations schema and rows (no alembic_version) is
    stamped, upgraded to the head revision on start, keeps its rows, and ends up with exactly
    the code's schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, insert, text

    from matching.store.db import current_revision, head_revision
    from matching.store.migrations import release_2026_11_23 as release

    host = pg_url.split("host=")[1].split("&")[0]
    subprocess.run(
        ["psql", "-h", host, "-p", str(PORT), "-U", "postgres", "-c", "CREATE DATABASE release"], check=True, capture_output=True
    )
    url = pg_url.replace("/matching?", "/release?")
    old = create_engine(url)
    release.metadata.create_all(old)
    with old.begin() as conn:
        conn.execute(insert(release.offices).values(office_id="nav-x", name="NAV X", municipality_code="5001", postal_code="7030"))
        conn.execute(
            insert(release.audit_log).values(
                at=dt.datetime(2026, 11, 20, 9), sub="kari", role="adviser", action="read_profile", participant_id="P-1"
            )
        )
    old.dispose()
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM offices")).scalar() == 1
        assert conn.execute(text("SELECT sub FROM audit_log")).scalar() == "kari"
        assert compare_metadata(MigrationContext.configure(conn), t.metadata) == []
    engine.dispose()
