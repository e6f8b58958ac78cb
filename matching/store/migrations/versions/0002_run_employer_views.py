"""run_employer_views: what a run's employer-facing opening lists were computed with (issue 9).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_employer_views",
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("areas", sa.String(64), nullable=False),
        sa.Column("needs_weighed", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_employer_views")
