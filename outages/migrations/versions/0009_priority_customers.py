"""customers.priority (life support, medical, critical facility) and priority_calls: each
call to a priority customer about an outage, with its outcome

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifier.sqltypes import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch rebuild of customers is refused while other tables refer
    # to its rows.
    op.add_column("customers", sa.Column("priority", sa.String(20)))
    op.create_table(
        "priority_calls",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("called_by", sa.String(100), nullable=False),
        sa.Column("called_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["outage_id"], ["outages.id"], ondelete="CASCADE",
                                name="fk_priority_calls_outage_id_outages"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name="fk_priority_calls_customer_id_customers"),
        sa.PrimaryKeyConstraint("id", name="pk_priority_calls"),
    )
    op.create_index("ix_priority_calls_outage_customer", "priority_calls",
                    ["outage_id", "customer_id"])


def downgrade() -> None:
    op.drop_table("priority_calls")
    op.drop_column("customers", "priority")
