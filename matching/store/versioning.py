"""A data version that moves with every write to the tables a snapshot is built from.

Triggers, not application code, bump it: a `matching load` in another process, the bulk
loader, a feedback-driven status change or a hand-written UPDATE all count, so the API can
tell with one indexed single-row read whether its in-memory snapshot is still current.
SQLite has only row-level triggers (a bulk insert bumps it once per row, which costs about a
microsecond each); PostgreSQL bumps it once per statement.
"""
from __future__ import annotations

from sqlalchemy import Connection, Engine, Insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from matching.store import tables as t

WATCHED = ("participants", "openings", "employers")
_OPS = ("INSERT", "UPDATE", "DELETE")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION matching_bump_data_version() RETURNS trigger AS $$
BEGIN
  UPDATE data_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END $$ LANGUAGE plpgsql
"""


def _sqlite_ddl() -> list[str]:
    return [f"CREATE TRIGGER IF NOT EXISTS bump_version_{table}_{op.lower()} AFTER {op} ON {table} "
            f"BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END"
            for table in WATCHED for op in _OPS]


def _postgres_ddl() -> list[str]:
    # DO-blocks instead of CREATE OR REPLACE TRIGGER: works on PostgreSQL before 14 too.
    out = [_PG_FUNCTION]
    for table in WATCHED:
        name = f"bump_version_{table}"
        out.append(f"""DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{name}') THEN
    CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
      FOR EACH STATEMENT EXECUTE FUNCTION matching_bump_data_version();
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
