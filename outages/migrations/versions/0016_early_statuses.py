"""early_statuses: delivery reports that arrived before the worker recorded the message's
provider id, kept until it does

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifier.sqltypes import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "early_statuses",
        sa.Column("message_sid", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error_code", sa.String(20)),
        sa.Column("error", sa.String(500)),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_sid", "status", name="pk_early_statuses"),
    )
    op.create_index("ix_early_statuses_received_at", "early_statuses", ["received_at"])


def downgrade() -> None:
    op.drop_table("early_statuses")
