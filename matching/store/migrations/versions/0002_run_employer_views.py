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
    # A database made by main between this table's introduction and the first migration has it
    # already (created by `metadata.create_all` then): nothing to do there.
    if sa.inspect(op.get_bind()).has_table("run_employer_views"):
        return
    op.create_table(
        "run_employer_views",
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("areas", sa.String(64), nullable=False),
        sa.Column("needs_weighed", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_employer_views")
