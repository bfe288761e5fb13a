"""alerts and reopenings: customers who replied "still no power" after a restoration, and
the dispatch desk's alerts about them

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifier.sqltypes import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("last_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["outage_id"], ["outages.id"], ondelete="CASCADE",
                                name="fk_alerts_outage_id_outages"),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_outage", "alerts", ["outage_id", "last_at"])
    op.create_table(
        "reopenings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("restored_at", UTCDateTime, nullable=False),
        sa.Column("replied_at", UTCDateTime, nullable=False),
        sa.Column("via", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(["outage_id"], ["outages.id"], ondelete="CASCADE",
                                name="fk_reopenings_outage_id_outages"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name="fk_reopenings_customer_id_customers"),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE",
                                name="fk_reopenings_alert_id_alerts"),
        sa.PrimaryKeyConstraint("id", name="pk_reopenings"),
        sa.UniqueConstraint("outage_id", "customer_id", "restored_at",
                            name="uq_reopenings_outage_id"),
    )
    op.create_index("ix_reopenings_alert_id", "reopenings", ["alert_id"])


def downgrade() -> None:
    op.drop_table("reopenings")
    op.drop_table("alerts")
