"""customers.email_invalid: an address the mail server refused for good (a hard bounce),
kept apart from the customer's own email opt-out

Bounces recorded before this revision were stored as opt-outs by the worker; those still in
force (no later change to the customer) become invalid addresses.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

customers = sa.table("customers", sa.column("code", sa.String),
                     sa.column("email_opt_out", sa.Boolean), sa.column("email_invalid", sa.Boolean))
audit = sa.table("audit_log", sa.column("id", sa.BigInteger), sa.column("actor", sa.String),
                 sa.column("action", sa.String), sa.column("entity", sa.String),
                 sa.column("entity_id", sa.String))


def upgrade() -> None:
    # A plain ADD COLUMN on both backends: a batch rebuild would drop and recreate the
    # customers table, which SQLite refuses while other tables refer to its rows.
    op.add_column("customers", sa.Column("email_invalid", sa.Boolean(), nullable=False,
                                         server_default=sa.false()))
    bounce, later = audit.alias("bounce"), audit.alias("later")
    changed_since = sa.exists().where(later.c.entity == "customer",
                                      later.c.entity_id == bounce.c.entity_id,
                                      later.c.action == "customer.update",
                                      later.c.id > bounce.c.id)
    bounced = sa.select(bounce.c.entity_id).where(
        bounce.c.entity == "customer", bounce.c.action == "customer.email_opt_out",
        bounce.c.actor == "worker", ~changed_since)
    op.execute(customers.update()
               .where(customers.c.email_opt_out.is_(sa.true()), customers.c.code.in_(bounced))
               .values(email_invalid=True, email_opt_out=False))


def downgrade() -> None:
    op.execute(customers.update().where(customers.c.email_invalid.is_(sa.true()))
               .values(email_opt_out=True))
    op.drop_column("customers", "email_invalid")
