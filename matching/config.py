"""Settings from the environment (prefix MATCHING_), with safe development defaults.

In development the JWT secret is generated once and stored beside the SQLite database, so
tokens printed by `matching token` keep working across restarts; outside development a
missing or known-weak secret is refused.
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "var" / "matching.db"
DEFAULT_MODEL_DIR = PROJECT_ROOT / "models"
DEFAULT_FIXTURES = PROJECT_ROOT / "data" / "fixtures"
WEAK_SECRETS = {"", "secret", "changeme", "dev", "development"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore")

    environment: str = Field(default="development", description="development | production")
    database_url: str = Field(default=f"sqlite:///{DEFAULT_DB_PATH}")
    # SecretStr: the signing key shows as '**********' in a repr, a log line or model_dump();
    # only resolved_secret() hands out the value.
    secret_key: SecretStr | None = None
    token_ttl_minutes: int = 8 * 60
    host: str = "127.0.0.1"
    port: int = 8000
    model_dir: Path = DEFAULT_MODEL_DIR
    top_k: int = 50
    quoted_entries: int = Field(
        default=20,
        ge=1,
        description="entries of each participant's stored list whose reasons' values the run stores, so reading "
        "them needs no snapshot (the API's default page is 10, the workbench's 20); a read beyond them is "
        "explained from a small World of the list's rows",
    )
    keep_runs: int = 5
    alloc_factor: float = Field(
        default=3.0, ge=0, description="'flow': an opening is in at most this many × its free places recommended-now lists (issue 14)"
    )
    recommend_now: int = Field(default=10, ge=1, le=50, description="length of the recommended-now lists (issue 14)")
    alloc_mode: Literal["price", "flow"] = Field(
        default="price",
        description="recommended-now lists: 'price' keeps them full-length and prices congestion (expected starts above "
        "alloc_factor × free places); 'flow' caps each opening at alloc_factor × free places lists (issue 14)",
    )
    alloc_start_factor: float = Field(
        default=0.4,
        ge=0,
        description="'price': an opening's expected starts from the first alloc_head places of the lists it is in are "
        "priced above this many × its free places (tuned with alloc_strength on simulation seeds 11-13, benchmarks/allocation.py)",
    )
    alloc_depth: int = Field(default=50, ge=1, description="'price': how deep in the personal list a replacement may come from")
    alloc_head: int = Field(
        default=3, ge=1, description="'price': the first places of a list an opening's expected starts count (what advisers act on now)"
    )
    alloc_strength: float = Field(
        default=0.45, ge=0, le=1, description="'price': weight of the congestion price on a pair's score (0: the personal list)"
    )
    alloc_full_strength: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="'price': weight of the congestion price on openings with no free place at all, or every free place "
        "spoken for by chains in flight (1: they leave the lists' heads wherever the participant has another pair within "
        "alloc_depth; they stay in the list below, unless alloc_hold_at holds them back; 0.65 before session 22; tuned "
        "on simulation seeds 11-13)",
    )
    alloc_tail: Literal["personal", "priced"] = Field(
        default="personal",
        description="'price': the list after its first alloc_head places keeps the personal order ('personal': a congested "
        "opening moves down, not out) or is ordered by priced value too ('priced')",
    )
    alloc_passes: int = Field(
        default=2,
        ge=1,
        le=5,
        description="'price': allocation passes per run; each pass after the first re-splits the free places of openings "
        "one office's shard priced and another left partly unused (allocation.resplit)",
    )
    alloc_hold_at: float = Field(
        default=0.0,
        ge=-1,
        description="'price': an opening with at most this many places (alloc_hold_basis) is not recommended now (no room "
        "now: held back from every recommended-now list, which says so when it is left short; the personal list keeps "
        "it); negative: never held back (chosen on simulation seeds 11-13)",
    )
    alloc_hold_basis: Literal["not_spoken_for", "free"] = Field(
        default="free",
        description="'price': what alloc_hold_at compares: the free places less those spoken for by chains in flight, "
        "or the free places alone (only openings with no free place are held back at alloc_hold_at 0)",
    )
    today: dt.date | None = Field(default=None, description="pin 'today' (tests, replays)")
    snapshot_wait: float = Field(
        default=2.0,
        ge=0,
        description="seconds a live request waits for the snapshot to catch up with a data change before using the previous one",
    )
    snapshot_warm: bool = Field(
        default=True,
        description="build the live snapshot when the API starts; false: "
        "on the first live request (a worker serving only stored lists never builds it)",
    )
    access_log: bool = Field(
        default=False,
        description="log one line per request (uvicorn's access log); off by default: the audit log and /metrics "
        "record what matters, and a line per request is CPU spent on every answer",
    )
    dask_scheduler: str | None = Field(default=None, description="tcp://host:port → refresh on Dask")
    # Request limits (api/limits.py): one caller must not be able to hog the server.
    max_body_bytes: int = Field(default=64 * 1024, ge=0, description="largest request body accepted (413 above)")
    rate_limit: str = Field(
        default="600/minute",
        description="requests per token `sub` (client IP without a "
        "valid token) to /v1 endpoints, per server process; e.g. '600/minute;20/second'",
    )
    rate_limit_live: str = Field(
        default="60/minute", description="of which live computations: POST /v1/match, ?fresh=true on matches and candidates"
    )
    rate_limit_enabled: bool = True
    # The nightly promotion gate (matching/gate.py, `matching refresh --auto-promote`).
    gate_exposure_margin: float = Field(
        default=0.05,
        ge=0,
        description="a candidate that widens the fairness report's largest exposure gap (1 − lowest / highest "
        "group exposure) by more than this is not promoted",
    )
    gate_tolerance: float = Field(
        default=0.0,
        ge=0,
        description="a candidate is refused when the whole bootstrap interval of its ranking figure minus the served "
        "model's lies below −this",
    )
    gate_bootstrap_samples: int = Field(default=2000, ge=100, le=100_000, description="paired bootstrap resamples")

    @field_validator("rate_limit", "rate_limit_live")
    @classmethod
    def _rate_limit(cls, v: str) -> str:
        from limits import parse_many

        parse_many(v)  # ValueError on nonsense, at start-up rather than on the first request
        return v

    def as_of(self) -> dt.date:
        return self.today or dt.date.today()

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url[len(prefix) :])
        return None

    def resolved_secret(self) -> str:
        """The JWT signing secret as a plain string (for signing and verifying only; never log it);
        generated and persisted beside the DB in development only."""
        key = self.secret_key.get_secret_value() if self.secret_key is not None else ""
        if key:
            if key.lower() in WEAK_SECRETS or (self.environment != "development" and len(key) < 32):
                raise RuntimeError("MATCHING_SECRET_KEY is too weak (a known default, or under 32 characters outside development)")
            return key
        if self.environment != "development":
            raise RuntimeError("MATCHING_SECRET_KEY must be set outside development")
        db_path = self.sqlite_path()
        secret_file = (db_path.parent if db_path else PROJECT_ROOT / "var") / "dev-secret.key"
        if secret_file.exists():
            return secret_file.read_text().strip()
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        secret_file.write_text(value)
        secret_file.chmod(0o600)
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
