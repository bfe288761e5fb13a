"""Remember how long quiet hours may hold a notice

Quiet hours were applied once, when a notice was queued. A notice that fell due in the
evening and was sent late (a retry, a backlog, a worker down for a while) went out at night.
The worker now holds non-urgent notices claimed inside quiet hours until the window ends,
unless that would be at or after the notice's deadline (the cut's start), kept here.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifier.sqltypes import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


# The kinds queued with the cut's start as their deadline (notices.planner).
BEFORE_THE_START = ("announcement", "reminder", "changed", "cancelled", "no_longer_affected")


def upgrade() -> None:
    # A nullable column without a default: no table rewrite on either backend.
    op.add_column("outbox", sa.Column("deadline", UTCDateTime(), nullable=True))
    # Notices queued before this revision get the deadline they were queued with, or the
    # worker would read "no limit" and hold a 22:00 reminder of a 06:00 cut until 07:00.
    kinds = ", ".join(f"'{kind}'" for kind in BEFORE_THE_START)
    op.execute(f"UPDATE outbox SET deadline = (SELECT planned_start FROM outages "
               f"WHERE outages.id = outbox.outage_id) WHERE status IN ('pending', 'sending') "
               f"AND outage_id IS NOT NULL AND kind IN ({kinds})")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("deadline")
