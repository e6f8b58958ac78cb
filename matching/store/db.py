"""Engine creation: SQLite file by default (WAL, so the API reads while a batch writes), or
PostgreSQL by URL (needs the `postgres` extra)."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

from matching.store import versioning
from matching.store.tables import metadata

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine with the schema created; safe to call on an existing database."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        try:
            engine = create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on installed extras
            raise ImportError(
                f"the database driver for {url.split(':', 1)[0]!r} is not installed; "
                "install the extra: pip install 'nav-matching[postgres]'"
            ) from exc
    metadata.create_all(engine)
    versioning.install(engine)
    return engine


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine (connection pool) per URL per process."""
    return make_engine(url)
