"""subscriptions: phones and emails that hear of a customer code's or a district's outages
(double opt-in), the requests their limits count, and outbox.subscription_id

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifier.sqltypes import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("contact", sa.String(254), nullable=False),
        sa.Column("target_kind", sa.String(8), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("keyword", sa.String(100), nullable=False),
        sa.Column("customer_id", sa.Integer()),
        sa.Column("district", sa.String(100)),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("via", sa.String(8), nullable=False),
        sa.Column("request_hash", sa.String(64)),
        sa.Column("code_hash", sa.String(64)),
        sa.Column("code_expires_at", UTCDateTime),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("codes_sent", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("code_sent_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("confirmed_at", UTCDateTime),
        sa.Column("ended_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("request_hash", name=op.f("uq_subscriptions_request_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_subscriptions_customer_id", "subscriptions", ["customer_id"])
    op.create_index("ix_subscriptions_district", "subscriptions", ["district"])
    op.create_index("ix_subscriptions_contact", "subscriptions", ["contact", "status"])
    op.create_table(
        "subscription_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_requests")),
    )
    op.create_index("ix_subscription_requests_scope_key_at", "subscription_requests",
                    ["scope", "key", "at"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("subscription_id", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("subscription_id")
    op.drop_table("subscription_requests")
    op.drop_table("subscriptions")
