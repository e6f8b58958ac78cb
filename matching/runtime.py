"""Process-wide handles: the database engine, the trained model and a fresh-enough snapshot.

The snapshot (World) is rebuilt at most every SNAPSHOT_TTL seconds, or at once after this
process wrote data (`invalidate()`), so a live request never scores against stale
participants for long while a busy API does not reload the tables on every call.
"""
from __future__ import annotations

import threading
import time
from functools import lru_cache

from sqlalchemy import Engine

from matching.config import Settings, get_settings
from matching.engine import MatchEngine
from matching.scoring import ScoringModel
from matching.store.db import engine_for
from matching.world import World, load_world

SNAPSHOT_TTL = 30.0

_lock = threading.Lock()
_cache: dict[str, tuple[float, World]] = {}


def db(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    return engine_for(settings.database_url)


@lru_cache(maxsize=4)
def _model(model_dir: str, mtime_key: float) -> ScoringModel:
    from pathlib import Path

    return ScoringModel.load(Path(model_dir))


def model(settings: Settings | None = None) -> ScoringModel:
    settings = settings or get_settings()
    latest = settings.model_dir / "LATEST"
    key = latest.stat().st_mtime if latest.exists() else 0.0
    return _model(str(settings.model_dir), key)


def world(settings: Settings | None = None) -> World:
    settings = settings or get_settings()
    url = settings.database_url
    with _lock:
        hit = _cache.get(url)
        if hit and time.monotonic() - hit[0] < SNAPSHOT_TTL:
            return hit[1]
    with db(settings).connect() as conn:
        snapshot = load_world(conn)
    with _lock:
        _cache[url] = (time.monotonic(), snapshot)
    return snapshot


def invalidate() -> None:
    with _lock:
        _cache.clear()


def match_engine(settings: Settings | None = None) -> MatchEngine:
    settings = settings or get_settings()
    return MatchEngine(world(settings), model(settings), settings.as_of())
