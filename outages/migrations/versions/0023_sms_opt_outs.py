"""Numbers that texted STOP, with or without an account

A STOP was recorded only on the accounts that have the number. A caller without an account
who reported a fault, then texted STOP, was told texts would stop and still got "power is
back". The numbers are kept here; the worker checks every text against them.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifier.sqltypes import UTCDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_opt_outs",
        sa.Column("phone", sa.String(20).with_variant(sa.String(20, collation="C"),
                                                      "postgresql"), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sms_opt_outs")
