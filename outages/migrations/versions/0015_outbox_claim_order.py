"""outbox: the (status, due_at) index also orders by id, as workers claim, so a claim of 500
rows reads 500 index entries instead of sorting every pending row due at the same time

Revision ID: 0015
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_outbox_status_due", table_name="outbox")
    op.create_index("ix_outbox_status_due", "outbox", ["status", "due_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_status_due", table_name="outbox")
    op.create_index("ix_outbox_status_due", "outbox", ["status", "due_at"])
