"""Schema migrations (Alembic): a database created by the release before migrations is
upgraded on start without losing a row, and the migrated schema is exactly the code's.

`tests/data/release-2026-11-23.sql` is a dump of a SQLite database made by that release (main
at 1d6c845): a small office loaded from the fixtures, one published refresh, outcomes and
audit rows — data in every table.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from matching.store.db import current_revision, head_revision, make_engine, migrate
from matching.store.tables import metadata

RELEASE_DUMP = Path(__file__).parent / "data" / "release-2026-11-23.sql"


def _tables(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(conn.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}


@pytest.fixture()
def release_db(tmp_path) -> Path:
    path = tmp_path / "release.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(RELEASE_DUMP.read_text(encoding="utf-8"))
    return path


def test_a_database_from_the_release_before_migrations_keeps_every_row(release_db):
    before = _tables(release_db)
    assert "alembic_version" not in before
    assert all(before[name] for name in before), "the dump must have data in every table"
    engine = make_engine(f"sqlite:///{release_db}")
    assert current_revision(engine) == head_revision()
    after = _tables(release_db)
    # Columns added since, at the end of their table, empty in old rows: 0003 adviser_id (nobody is
    # assigned yet), 0004 the lists' quoted values and the runs' data version (old lists are
    # checked on a small World, as before), 0005 the participants' birth year (age band "unknown")
    # and the runs' promotion-gate verdict (not gated), 0006 the runs' congestion figures, 0007
    # the employers' contact cap (none: no cap).
    added = {"participants": 2, "participant_lists": 1, "opening_lists": 1, "runs": 5, "employers": 1}
    for name, rows in before.items():
        if name in added:
            n = added[name]
            assert all(r[-n:] == (None,) * n for r in after[name]), name
            assert sorted((r[:-n] for r in after[name]), key=repr) == rows, name
            continue
        assert after[name] == rows, name
    assert after["run_employer_views"] == []  # new since: the old run's opening lists are recomputed live
    assert after["row_changes"] == []  # rows written before 0004 are not tracked, nor needed
    assert after["recommended_lists"] == []  # 0006: an old run has no recommended-now lists
    engine.dispose()


def test_the_upgraded_database_serves(release_db, model_dir, auth):
    """Stored participant lists of the old run are still served; its opening lists (from before
    the employer-facing view) are computed live."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import settings_for

    settings = settings_for(release_db, model_dir)
    client = TestClient(create_app(settings))
    with sqlite3.connect(release_db) as conn:
        pid, office = conn.execute("SELECT participant_id, office_id FROM participants ORDER BY 1").fetchone()
        oid = conn.execute("SELECT opening_id FROM opening_lists ORDER BY 1").fetchone()[0]
    res = client.get(f"/v1/participants/{pid}/matches", headers=auth("adviser", office))
    assert res.status_code == 200 and res.json()["run_id"] is not None
    res = client.get(f"/v1/openings/{oid}/candidates", headers=auth("liaison", office))
    assert res.status_code == 200 and res.json()["run_id"] is None


def test_the_migrated_schema_is_the_codes_schema(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert migrate(engine) == (head_revision(), head_revision())  # nothing pending: a no-op
    engine.dispose()


def test_an_empty_database_gets_every_table(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_a_database_that_already_has_the_new_table_is_stamped_not_broken(release_db):
    """Main briefly created run_employer_views with create_all before migrations existed."""
    with sqlite3.connect(release_db) as conn:
        conn.execute(
            "CREATE TABLE run_employer_views (run_id VARCHAR(40) NOT NULL PRIMARY KEY "
            "REFERENCES runs (run_id), areas VARCHAR(64) NOT NULL, needs_weighed BLOB NOT NULL)"
        )
    engine = make_engine(f"sqlite:///{release_db}")
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_0005_adds_birth_year_and_the_gate_verdict_empty_and_downgrades_cleanly(release_db):
    """Upgrade to head, then down to 0004 and up again: the new columns come and go, no row is lost."""
    from matching.store.db import migrate

    engine = make_engine(f"sqlite:///{release_db}")
    cols = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in ("participants", "runs")}
    assert "birth_year" in cols["participants"] and {"gate_candidate", "gate_decision", "gate_detail"} <= cols["runs"]
    with sqlite3.connect(release_db) as conn:
        n = conn.execute("SELECT count(*) FROM participants").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM participants WHERE birth_year IS NOT NULL").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM runs WHERE gate_decision IS NOT NULL").fetchone()[0] == 0
    from alembic import command

    from matching.store.db import _alembic

    cfg = _alembic()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    assert "birth_year" not in {c["name"] for c in inspect(engine).get_columns("participants")}
    assert migrate(engine)[1] == head_revision()
    with sqlite3.connect(release_db) as conn:
        assert conn.execute("SELECT count(*) FROM participants").fetchone()[0] == n
    engine.dispose()


def test_employers_of_the_release_have_no_contact_cap_and_can_get_one(release_db):
    """0007: the new column is there, empty for every old employer (no cap), and takes a value."""
    engine = make_engine(f"sqlite:///{release_db}")
    assert "max_contacts_per_month" in {c["name"] for c in inspect(engine).get_columns("employers")}
    engine.dispose()
    with sqlite3.connect(release_db) as conn:
        caps = [r[0] for r in conn.execute("SELECT max_contacts_per_month FROM employers")]
        assert caps and all(c is None for c in caps)
        orgnr = conn.execute("SELECT orgnr FROM employers ORDER BY 1").fetchone()[0]
        conn.execute("UPDATE employers SET max_contacts_per_month = 4 WHERE orgnr = ?", (orgnr,))
        assert conn.execute("SELECT max_contacts_per_month FROM employers WHERE orgnr = ?", (orgnr,)).fetchone() == (4,)
