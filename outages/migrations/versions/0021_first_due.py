"""Remember when a notice first fell due

A transient failure (a provider's 429 or 503) moves a notice's due_at to its next try, and
retrying gave up retry.max_age after the row was created. A reminder queued six days ahead
was older than that when it first went out, so one 503 ended it. first_due_at keeps the first
due time once due_at moves, and the retry policy counts from it.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifier.sqltypes import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column without a default: no table rewrite on either backend.
    op.add_column("outbox", sa.Column("first_due_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("first_due_at")
