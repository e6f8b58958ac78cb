"""Storage: every SQL statement of the project lives in this package (tests/test_layers.py).

Repositories, one module per thing stored: `participants`, `openings`, `outcomes`, `runs`
(batch runs, the refresh lock, publishing), `lists` (a run's match lists), `audit`, plus
`load` (imports), `snapshot` (a World read from the tables) and `db` (engines, migrations).
Callers outside `store/` import no SQLAlchemy; the handle types they pass around are
re-exported here.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError as StoreError

__all__ = ["Connection", "Engine", "StoreError"]
