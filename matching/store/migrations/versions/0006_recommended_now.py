"""Scarce places (issue 14): each run's congestion figures and its recommended-now lists.

- `runs.congestion` (nullable JSON): the run's congestion figures before and after allocation;
- `recommended_lists`: per participant of a run, the recommended-now list and per listed
  opening why it was kept or held back;
- `run_top_candidates`: per participant of a run, the openings whose (employer-facing)
  candidate list has them in its top 3 ("strongly matched elsewhere").

Older runs keep NULL and have no recommended-now lists (served as "not in the run").

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if "congestion" not in {c["name"] for c in sa.inspect(bind).get_columns("runs")}:
        op.add_column("runs", sa.Column("congestion", sa.JSON, nullable=True))
    if not sa.inspect(bind).has_table("recommended_lists"):
        op.create_table(
            "recommended_lists",
            sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id"), primary_key=True),
            sa.Column("participant_id", sa.String(40), primary_key=True),
            sa.Column("opening_ids", sa.Text, nullable=False),
            sa.Column("notes", sa.Text, nullable=False),
        )
    if not sa.inspect(bind).has_table("run_top_candidates"):
        op.create_table(
            "run_top_candidates",
            sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id"), primary_key=True),
            sa.Column("participant_id", sa.String(40), primary_key=True),
            sa.Column("opening_ids", sa.Text, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("run_top_candidates")
    op.drop_table("recommended_lists")
    op.drop_column("runs", "congestion")
