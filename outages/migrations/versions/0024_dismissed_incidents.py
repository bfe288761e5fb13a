"""Incidents dismissed as no fault of the network keep why

A reported incident the crew found nothing wrong for (the customer's own installation, a
prank) closes as 'dismissed'; the status column takes any string, the reason
needs a column of its own.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outages", sa.Column("dismiss_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("outages", "dismiss_reason")
