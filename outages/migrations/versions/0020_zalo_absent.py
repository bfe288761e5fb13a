"""Remember when Zalo said a customer's number has no account

Zalo answers -108/-114/-118/-119/-139 for a number it cannot reach (no Zalo account, inactive,
refusing). The notice falls back to SMS, but the next one was tried on Zalo again: a wasted
call and a slower notice each time, and in a typhoon a share of the OA's rate and daily limit.
The time of the last such answer lets queueing send those customers SMS for a while
(`zalo.retry_absent_after`) before Zalo is tried again.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifier.sqltypes import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column without a default: no table rewrite on either backend.
    op.add_column("customers", sa.Column("zalo_absent_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild of customers would drop the table
    # that interruptions and reports refer to, which foreign keys refuse once they hold rows.
    op.drop_column("customers", "zalo_absent_at")
