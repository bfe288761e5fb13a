"""outages.public_ref, reason_en and area_points; fault incidents lose the reason copied from
a caller's report

`public_ref` names an outage in public answers instead of its sequential id (existing outages
get one here). `reason_en` is a cut's or incident's reason in English. `area_points` counts
the located reports an automatic fault area was drawn around. Until now an incident's reason
was only ever the first caller's own words, which are personal data kept on the report: they
are cleared, from the incidents and from their audit entries, so customers read the cause's
wording instead.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

outages = sa.table("outages", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                   sa.column("reason", sa.Text), sa.column("public_ref", sa.String))

audit = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("action", sa.String),
                 sa.column("after", sa.JSON))

# A copy of outages.models.outages.new_public_ref: a migration must not change when the
# model does.
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ref() -> str:
    return "".join(secrets.choice(REF_ALPHABET) for _ in range(8))


def upgrade() -> None:
    # Plain ADD COLUMN on both backends (no batch rebuild: other tables refer to outages).
    op.add_column("outages", sa.Column("public_ref", sa.String(12), nullable=True))
    op.add_column("outages", sa.Column("area_points", sa.Integer(), nullable=True))
    op.add_column("outages", sa.Column("reason_en", sa.Text(), nullable=True))
    conn = op.get_bind()
    ids = conn.execute(sa.select(outages.c.id)).scalars().all()
    refs: set[str] = set()
    while len(refs) < len(ids):
        refs.add(_ref())
    if ids:  # one statement for every outage (an imported history holds many thousands)
        conn.execute(outages.update().where(outages.c.id == sa.bindparam("outage_id"))
                     .values(public_ref=sa.bindparam("ref")),
                     [{"outage_id": i, "ref": r} for i, r in zip(ids, refs, strict=True)])
    op.create_index("ix_outages_public_ref", "outages", ["public_ref"], unique=True)
    op.execute(outages.update().where(outages.c.kind == "fault").values(reason=None))
    # The audit entry of each opened incident copied that reason too.
    opened = conn.execute(sa.select(audit.c.id, audit.c.after)
                          .where(audit.c.action == "fault.opened")).all()
    scrubbed = [{"audit_id": row.id, "after": {**row.after, "reason": None}}
                for row in opened if isinstance(row.after, dict) and row.after.get("reason")]
    if scrubbed:
        conn.execute(audit.update().where(audit.c.id == sa.bindparam("audit_id"))
                     .values(after=sa.bindparam("after")), scrubbed)


def downgrade() -> None:
    op.drop_index("ix_outages_public_ref", table_name="outages")
    op.drop_column("outages", "reason_en")
    op.drop_column("outages", "area_points")
    op.drop_column("outages", "public_ref")
