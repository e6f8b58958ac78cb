"""Stored lists that are cheap to read (issue 10): the values a list's reasons quote, stored with
it; the data version each run read its snapshot at; and per-row change tracking.

- `participant_lists.quoted` (nullable): the run's quoted values of every listed pair;
- `runs.data_version` (nullable): the data version read before the run's snapshot;
- `row_changes`: per participant, opening and employer, the data version of its last write
  (filled by the triggers `store/versioning.py` installs on start).

Older runs keep NULLs: their lists are checked on a small World as before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    # Plain ADD COLUMN (nullable): batch mode would rebuild the tables (see 0003).
    if "quoted" not in _columns("participant_lists"):
        op.add_column("participant_lists", sa.Column("quoted", sa.LargeBinary, nullable=True))
    if "quoted" not in _columns("opening_lists"):
        op.add_column("opening_lists", sa.Column("quoted", sa.LargeBinary, nullable=True))
    if "data_version" not in _columns("runs"):
        op.add_column("runs", sa.Column("data_version", sa.Integer, nullable=True))
    if not sa.inspect(op.get_bind()).has_table("row_changes"):
        op.create_table(
            "row_changes",
            sa.Column("tbl", sa.String(16), primary_key=True),
            sa.Column("key", sa.String(40), primary_key=True),
            sa.Column("version", sa.Integer, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("row_changes")
    op.drop_column("runs", "data_version")
    op.drop_column("opening_lists", "quoted")
    op.drop_column("participant_lists", "quoted")
