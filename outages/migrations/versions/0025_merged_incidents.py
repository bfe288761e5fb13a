"""Incidents merged into another keep which one

Reports far apart about the same fault open two incidents; the dispatcher merges the
duplicate into the one that stands. The duplicate closes as 'merged' (the status column
takes any string) and keeps the incident its reports went to.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No foreign key: SQLite cannot add one without copying the table, and outages are
    # never deleted.
    op.add_column("outages", sa.Column("merged_into", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("outages", "merged_into")
