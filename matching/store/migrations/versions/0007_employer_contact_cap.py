"""employers.max_contacts_per_month: an employer's cap on contacts from NAV per calendar month
(issue 14). NULL: no cap — every employer stored before has none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("employers")}
    if "max_contacts_per_month" in columns:
        return
    # A plain ADD COLUMN (nullable): batch mode would rebuild the table and drop the
    # data_version triggers on it (store/versioning.py).
    op.add_column("employers", sa.Column("max_contacts_per_month", sa.Integer, nullable=True))


def downgrade() -> None:
    op.drop_column("employers", "max_contacts_per_month")
