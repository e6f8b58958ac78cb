"""Bearer tokens: HS256 JWTs with `sub`, `role`, `offices` and `exp`.

The secret is `Settings.resolved_secret()` (a `SecretStr` in the settings, so it never shows in
a repr or a log; generated and kept beside the development database; required and strong
elsewhere). `create_token` is what `matching token` prints.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt

from matching.config import Settings

ALGORITHM = "HS256"
#: No token lives longer than this, whatever its `exp` says (a stolen token stays useful for
#: at most a working week).
MAX_TTL_MINUTES = 7 * 24 * 60
ROLES: tuple[str, ...] = ("adviser", "liaison", "batch", "admin")


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired or carries unusable claims."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says."""

    sub: str
    role: str
    offices: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def covers(self, office_id: str) -> bool:
        """Admins cover every office; everyone else only the offices in their token."""
        return self.is_admin or office_id in self.offices


def create_token(sub: str, role: str, offices: list[str], settings: Settings, ttl_minutes: int | None = None) -> str:
    """A signed token for `sub` acting as `role` for `offices`, valid for ttl minutes."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not sub:
        raise ValueError("sub must not be empty")
    now = dt.datetime.now(dt.UTC)
    ttl = settings.token_ttl_minutes if ttl_minutes is None else ttl_minutes
    if not 0 < ttl <= MAX_TTL_MINUTES:
        raise ValueError(f"ttl_minutes must be between 1 and {MAX_TTL_MINUTES}")
    claims = {"sub": sub, "role": role, "offices": list(offices), "iat": now, "exp": now + dt.timedelta(minutes=ttl)}
    return jwt.encode(claims, settings.resolved_secret(), algorithm=ALGORITHM)


#: Verified tokens remembered per process (a client sends the same token with every request,
#: and the rate limit and the route both need its caller): at most this many, least recently
#: used first out. Only tokens that verified are kept, keyed by the token and the secret.
TOKEN_CACHE_SIZE = 4096


def decode_token(token: str, settings: Settings) -> Principal:
    """Verify signature and expiry and check the claims; raises InvalidToken with a reason.

    A token verified before is not verified again (`_verified`, a bounded LRU cache), but its
    expiry is checked on every call: a cached token stops working the moment it expires."""
    principal, exp = _verified(token, settings.resolved_secret())
    if _clock() >= exp:  # PyJWT's rule (no leeway): valid while now < exp
        raise InvalidToken("token has expired")
    return principal


def _clock() -> float:
    return time.time()


@lru_cache(maxsize=TOKEN_CACHE_SIZE)
def _verified(token: str, secret: str) -> tuple[Principal, float]:
    """The token's principal and expiry if it verifies now (exceptions are not cached)."""
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub"]})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token has expired") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("token signature is invalid") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"token is invalid: {exc}") from None
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise InvalidToken("token claims 'exp' and 'iat' must be numeric dates")
    if exp - iat > MAX_TTL_MINUTES * 60:
        raise InvalidToken(f"token lifetime exceeds the maximum of {MAX_TTL_MINUTES // 60} hours")
    role, offices = claims.get("role"), claims.get("offices", [])
    if role not in ROLES:
        raise InvalidToken(f"token role must be one of {', '.join(ROLES)}")
    if not isinstance(offices, list) or not all(isinstance(o, str) for o in offices):
        raise InvalidToken("token claim 'offices' must be a list of office ids")
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("token claim 'sub' must be a non-empty string")
    return Principal(sub=sub, role=role, offices=frozenset(offices)), float(exp)
