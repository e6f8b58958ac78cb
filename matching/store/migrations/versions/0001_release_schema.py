"""The schema of the last release before migrations (tables as of 2026-11-23).

A database created by that release (with `metadata.create_all`, no `alembic_version` table)
is stamped at this revision on first start and upgraded from here.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

from matching.store.migrations import release_2026_11_23 as release

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    release.metadata.create_all(op.get_bind())


def downgrade() -> None:
    release.metadata.drop_all(op.get_bind())
