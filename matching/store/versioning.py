"""A data version that moves with every write to the tables a snapshot is built from.

Triggers, not application code, bump it: a `matching load` in another process, the bulk
loader, a feedback-driven status change or a hand-written UPDATE all count, so the API can
tell with one indexed single-row read whether its in-memory snapshot is still current.
SQLite has only row-level triggers (a bulk insert bumps it once per row, which costs about a
microsecond each); PostgreSQL bumps it once per statement.

Per-row change tracking: the same triggers record, in `row_changes`, the version each written
row's write moved the counter to (its table and primary key; a delete counts). So "did any of
these rows change after version V?" is one indexed read (`changed_since`): a stored list holds
its quoted values while none of its rows did (matching/serving.py). On SQLite one trigger per
table and operation does both (bump, then stamp the row with the new version); on PostgreSQL a
row-level trigger stamps each row with the version the statement-level bump will reach (it
locks the counter row first, so concurrent writers are ordered), and a TRUNCATE stamps
everything (`tbl = '*'`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import JSON, Connection, Engine, Insert, Integer, bindparam, func, select, text, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from matching.store import tables as t

WATCHED = ("participants", "openings", "employers")
KEYS = {"participants": "participant_id", "openings": "opening_id", "employers": "orgnr"}
_OPS = ("INSERT", "UPDATE", "DELETE")
EVERYTHING = "*"  # row_changes.tbl of a PostgreSQL TRUNCATE: every row changed

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION matching_bump_data_version() RETURNS trigger AS $$
BEGIN
  UPDATE data_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END $$ LANGUAGE plpgsql
"""


_PG_ROW_FUNCTION = """
CREATE OR REPLACE FUNCTION matching_track_row() RETURNS trigger AS $$
DECLARE
  v bigint;
BEGIN
  -- Lock the counter: the statement-level trigger bumps it to v + 1 after the row triggers.
  SELECT version INTO v FROM data_version WHERE id = 1 FOR UPDATE;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO row_changes (tbl, key, version) VALUES (TG_TABLE_NAME, to_jsonb(NEW) ->> TG_ARGV[0], v + 1)
      ON CONFLICT (tbl, key) DO UPDATE SET version = EXCLUDED.version;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO row_changes (tbl, key, version) VALUES (TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0], v + 1)
      ON CONFLICT (tbl, key) DO UPDATE SET version = EXCLUDED.version;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql
"""

_PG_TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION matching_track_truncate() RETURNS trigger AS $$
DECLARE
  v bigint;
BEGIN
  SELECT version INTO v FROM data_version WHERE id = 1 FOR UPDATE;
  INSERT INTO row_changes (tbl, key, version) VALUES ('*', '*', v + 1)
    ON CONFLICT (tbl, key) DO UPDATE SET version = EXCLUDED.version;
  RETURN NULL;
END $$ LANGUAGE plpgsql
"""


def _sqlite_stamp(table: str, row: str) -> str:
    # An upsert, not INSERT OR REPLACE: an outer statement's OR clause would override that one.
    return (
        f"INSERT INTO row_changes (tbl, key, version) SELECT '{table}', {row}.{KEYS[table]}, version "
        f"FROM data_version WHERE id = 1 ON CONFLICT (tbl, key) DO UPDATE SET version = excluded.version;"
    )


def _sqlite_ddl() -> list[str]:
    out = []
    for table in WATCHED:
        for op in _OPS:
            out.append(f"DROP TRIGGER IF EXISTS bump_version_{table}_{op.lower()}")  # before row tracking
            stamps = {"INSERT": ["NEW"], "UPDATE": ["NEW", "OLD"], "DELETE": ["OLD"]}[op]
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS track_{table}_{op.lower()} AFTER {op} ON {table} "
                f"BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; "
                + " ".join(_sqlite_stamp(table, row) for row in stamps)
                + " END"
            )
    return out


def _postgres_ddl() -> list[str]:
    # DO-blocks instead of CREATE OR REPLACE TRIGGER: works on PostgreSQL before 14 too.
    out = [_PG_FUNCTION, _PG_ROW_FUNCTION, _PG_TRUNCATE_FUNCTION]
    for table in WATCHED:
        name = f"bump_version_{table}"
        out.append(f"""DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{name}') THEN
    CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
      FOR EACH STATEMENT EXECUTE FUNCTION matching_bump_data_version();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'track_rows_{table}') THEN
    CREATE TRIGGER track_rows_{table} AFTER INSERT OR UPDATE OR DELETE ON {table}
      FOR EACH ROW EXECUTE FUNCTION matching_track_row('{KEYS[table]}');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'track_truncate_{table}') THEN
    CREATE TRIGGER track_truncate_{table} AFTER TRUNCATE ON {table}
      FOR EACH STATEMENT EXECUTE FUNCTION matching_track_truncate();
  END IF;
END $$""")
    return out


def install(engine: Engine) -> None:
    """Create the counter row and the triggers; safe to run on every start."""
    ddl = {"sqlite": _sqlite_ddl, "postgresql": _postgres_ddl}.get(engine.dialect.name)
    if ddl is None:  # pragma: no cover - only the two supported backends
        raise RuntimeError(f"no data-version triggers for database {engine.dialect.name!r}")
    with engine.begin() as conn:
        first: Insert
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(74310001)"))  # two processes starting at once
            first = pg_insert(t.data_version).values(id=1, version=0).on_conflict_do_nothing()
        else:
            first = sqlite_insert(t.data_version).values(id=1, version=0).on_conflict_do_nothing()
        conn.execute(first)
        for statement in ddl():
            conn.execute(text(statement))


def current(conn: Connection) -> int:
    return int(conn.execute(select(t.data_version.c.version).where(t.data_version.c.id == 1)).scalar_one())


def _changed_statement(dialect: str):
    """The rows' keys are bound as one JSON array per table and unpacked by the database
    (`json_each` on SQLite, `json_array_elements_text` on PostgreSQL), so the statement is the
    same whatever the number of keys: with one expanding IN per table, SQLAlchemy rendered
    the SQL again for every call (~0.1 ms, a twentieth of a stored read's CPU)."""
    rc = t.row_changes
    after = bindparam("version", type_=Integer)
    unpack = func.json_array_elements_text if dialect == "postgresql" else func.json_each
    parts = [select(rc.c.version).where(rc.c.tbl == EVERYTHING, rc.c.key == EVERYTHING, rc.c.version > after)]
    for table in WATCHED:
        keys = unpack(bindparam(table, type_=JSON)).table_valued("value")
        parts.append(select(rc.c.version).where(rc.c.tbl == table, rc.c.key.in_(select(keys.c.value)), rc.c.version > after))
    return union_all(*parts)


#: Built once per dialect: constructing the statement (and its cache key) per call cost more
#: CPU than running it (a stored list's read asks once, with ~50 openings and their employers).
_CHANGED = {dialect: _changed_statement(dialect) for dialect in ("sqlite", "postgresql")}


def changed_since(
    conn: Connection, version: int, *, participants: Iterable[str] = (), openings: Iterable[str] = (), employers: Iterable[str] = ()
) -> bool:
    """Was any of these rows written (inserted, updated, deleted) after data version `version`?
    One indexed read per table (the primary key of `row_changes`)."""
    keys = {"participants": participants, "openings": openings, "employers": employers}
    params = {table: sorted(set(keys[table])) for table in WATCHED}
    statement = _CHANGED["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    return conn.execute(statement, {"version": version, **params}).first() is not None
