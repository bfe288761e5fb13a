"""customers.channels: the channels a customer gets notices on, in order of preference
("zalo,sms,email"); empty for the notices.channels setting

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("channels", sa.String(64)))


def downgrade() -> None:
    op.drop_column("customers", "channels")
