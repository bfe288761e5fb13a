"""twilio_events: the inbound SMS and status callbacks already acted on, so a replayed
webhook changes nothing; also what the per-number limits count

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifier.sqltypes import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "twilio_events",
        sa.Column("message_sid", sa.String(64), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("phone", sa.String(32)),
        sa.Column("replied", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("message_sid", "event", name="pk_twilio_events"),
    )
    op.create_index("ix_twilio_events_phone_received", "twilio_events",
                    ["phone", "received_at"])
    op.create_index("ix_twilio_events_received_at", "twilio_events", ["received_at"])


def downgrade() -> None:
    op.drop_table("twilio_events")
