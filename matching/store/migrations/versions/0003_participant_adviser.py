"""participants.adviser_id: the adviser following a participant (issue 12, "my caseload").

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: existing participants are simply not assigned to anyone yet.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("participants")}
    if "adviser_id" in columns:
        return
    # A plain ADD COLUMN (SQLite supports it for a nullable column): batch mode would rebuild the
    # table and drop the data_version triggers on it (store/versioning.py).
    op.add_column("participants", sa.Column("adviser_id", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("participants", "adviser_id")
