"""Engine creation: SQLite file by default (WAL, so the API reads while a batch writes), or
PostgreSQL by URL (needs the `postgres` extra)."""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text

from matching.store import versioning

log = logging.getLogger(__name__)
# Alembic narrates every step at INFO; what was migrated is logged once below instead.
logging.getLogger("alembic").setLevel(logging.WARNING)


#: SQLite connections kept open per process (and as many more allowed while busy): at least the
#: thread pool's concurrent requests (anyio's default limit is 40 threads).
SQLITE_POOL_SIZE = 40


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


#: Every engine of this process, so a forked child can give up the pools it inherited.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A forked process (a worker of `matching serve --workers N`) must not use the connections
    its parent opened: each engine gets a new, empty pool (the parent's stay open for it)."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def make_engine(url: str) -> Engine:
    """An engine with the schema created; safe to call on an existing database."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        # A pool as large as the requests one process serves at once: with SQLAlchemy's default
        # (5 kept + 10 overflow, closed on return) a busy API opened and closed a connection per
        # request, and a new SQLite connection re-reads the schema and runs the pragmas below.
        pool = {} if str(path) == ":memory:" else {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        try:
            engine = create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on installed extras
            raise ImportError(
                f"the database driver for {url.split(':', 1)[0]!r} is not installed; "
                "install the extra: pip install 'nav-matching[postgres]'"
            ) from exc
    migrate(engine)
    versioning.install(engine)
    _ENGINES.add(engine)
    return engine


MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The revision that is the schema of the last release before migrations existed.
RELEASE_BEFORE_MIGRATIONS = "0001"


def _alembic() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    assert head is not None  # the package ships its migrations
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> tuple[str | None, str | None]:
    """Run the pending schema migrations (Alembic, in one transaction); returns the revision
    before and after. A database made by the release before migrations (tables, no
    `alembic_version`) is first stamped as that release's schema, then upgraded."""
    cfg = _alembic()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        before = MigrationContext.configure(conn).get_current_revision()
        if before is None and "participants" in inspect(conn).get_table_names():
            command.stamp(cfg, RELEASE_BEFORE_MIGRATIONS)
            before = RELEASE_BEFORE_MIGRATIONS
            log.info("database from before migrations: stamped at %s", before)
        command.upgrade(cfg, "head")
        after = MigrationContext.configure(conn).get_current_revision()
    if before != after:
        log.info("database schema migrated from %s to %s", before or "empty", after)
    return before, after


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """One read transaction: its statements see one snapshot of the database, and it takes no
    write lock, so another process writes meanwhile. On SQLite the (deferred) BEGIN is sent
    now: pysqlite sends one only before a write, so each SELECT would see its own snapshot."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        yield conn


def ping(conn: Connection) -> None:
    """One round trip (raises if the database cannot be reached)."""
    conn.execute(text("SELECT 1"))


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine (connection pool) per URL per process."""
    return make_engine(url)
