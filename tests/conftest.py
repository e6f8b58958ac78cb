"""Shared fixtures for the API tests: the fixture world in temporary SQLite databases, the app
on top of them, and signed tokens.

Two databases, loaded once per session from data/fixtures:
- `world`: the data, no batch run published (matches are computed live);
- `published`: two published runs, with one opening added in between, so the second run has
  something "new since the last run".
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, select

from api.app import create_app
from api.auth import create_token
from matching.config import Settings
from matching.store import tables as t
from matching.store.db import make_engine
from matching.store.load import load_directory

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "fixtures"
TODAY = dt.date(2026, 11, 16)  # the fixture world's reference date is 2026-11-15
SECRET = "test-secret-" + "k" * 36  # 48 characters
NEW_OPENING = "O-API-NEW"


def pytest_configure(config: pytest.Config) -> None:
    # Starlette's TestClient warns about httpx on import; that is not our deprecation.
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The committed model (trained on the fixtures)."""
    return ROOT / "models"


def settings_for(db_path: Path, model_dir: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{db_path}",
        today=TODAY,
        model_dir=model_dir,
        secret_key=SECRET,
        top_k=10,
        environment="test",
        rate_limit="100000/minute",
        rate_limit_live="100000/minute",
        snapshot_wait=60,
    )  # a data change is always seen, however slow the shared box is


def _copy_db(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


@pytest.fixture(scope="session")
def base_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("db") / "base.db"
    engine = make_engine(f"sqlite:///{path}")
    load_directory(engine, DATA)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def world(base_db, model_dir, tmp_path_factory) -> Settings:
    """Settings on a copy of the loaded data, with no batch run."""
    path = tmp_path_factory.mktemp("world") / "world.db"
    _copy_db(base_db, path)
    return settings_for(path, model_dir)


@dataclass
class Published:
    settings: Settings
    first_run: str
    second_run: str
    new_opening: str


def _add_opening(engine: Engine, tmp: Path) -> str:
    """One new open job next to a participant, in their desired occupation."""
    with engine.connect() as conn:
        p = conn.execute(select(t.participants).where(t.participants.c.goal != "trial").order_by(t.participants.c.participant_id)).first()
        orgnr = conn.execute(select(t.employers.c.orgnr).order_by(t.employers.c.orgnr)).scalar()
    header = "opening_id,orgnr,kind,title,styrk08,hours_per_week,postal_code,status,office_id,published_at\n"
    row = f"{NEW_OPENING},{orgnr},job,Ny stilling,{p.desired_styrk08[0]},20,{p.postal_code},open,{p.office_id},{TODAY}\n"
    (tmp / "openings.csv").write_text(header + row, encoding="utf-8")
    load_directory(engine, tmp)
    return NEW_OPENING


@pytest.fixture(scope="session")
def published(base_db, model_dir, tmp_path_factory) -> Published:
    from matching.batch import refresh

    tmp = tmp_path_factory.mktemp("published")
    path = tmp / "published.db"
    _copy_db(base_db, path)
    settings = settings_for(path, model_dir)
    engine = make_engine(settings.database_url)
    first = refresh(settings, db=engine).run_id
    extra = tmp / "extra"
    extra.mkdir()
    new = _add_opening(engine, extra)
    second = refresh(settings, db=engine).run_id
    engine.dispose()
    return Published(settings, first, second, new)


@pytest.fixture(scope="session")
def client(world) -> TestClient:
    from fastapi.testclient import TestClient

    return TestClient(create_app(world))


@pytest.fixture(scope="session")
def pub_client(published) -> TestClient:
    from fastapi.testclient import TestClient

    return TestClient(create_app(published.settings))


Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def auth(world) -> Auth:
    """auth(role, *offices, sub=None) → request headers with a valid token."""

    def make(role: str, *offices: str, sub: str | None = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + create_token(sub or f"{role}@test", role, list(offices), world)}

    return make


def db_engine(settings: Settings) -> Engine:
    from matching.store.db import engine_for

    return engine_for(settings.database_url)


def offices_of(settings: Settings) -> list[str]:
    with db_engine(settings).connect() as conn:
        return list(conn.execute(select(t.offices.c.office_id).order_by(t.offices.c.office_id)).scalars())


def participant_rows(settings: Settings) -> list[dict]:
    with db_engine(settings).connect() as conn:
        stmt = select(t.participants).order_by(t.participants.c.participant_id)
        return [dict(r._mapping) for r in conn.execute(stmt)]


def opening_rows(settings: Settings) -> list[dict]:
    with db_engine(settings).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t.openings).order_by(t.openings.c.opening_id))]


def children(pid: int) -> list[int]:
    """Processes whose parent is pid (Linux /proc): a server's or a refresh's workers."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
