"""Issue 13 (fairness and the promotion gate): participants.birth_year (optional, reported by age
band, never matched on) and the nightly promotion gate's verdict on runs (`gate_candidate`,
`gate_decision`, `gate_detail`).

Existing participants have no birth year (their age band is "unknown"); existing runs were not
gated.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    # Plain ADD COLUMN (nullable): batch mode would rebuild the tables and drop the
    # data_version triggers on participants (see 0003).
    if "birth_year" not in _columns("participants"):
        op.add_column("participants", sa.Column("birth_year", sa.Integer, nullable=True))
    have = _columns("runs")
    if "gate_candidate" not in have:
        op.add_column("runs", sa.Column("gate_candidate", sa.String(40), nullable=True))
    if "gate_decision" not in have:
        op.add_column("runs", sa.Column("gate_decision", sa.String(12), nullable=True))
    if "gate_detail" not in have:
        op.add_column("runs", sa.Column("gate_detail", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("runs", "gate_detail")
    op.drop_column("runs", "gate_decision")
    op.drop_column("runs", "gate_candidate")
    op.drop_column("participants", "birth_year")
