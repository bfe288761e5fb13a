"""outages.public_ref, reason_en and area_points; fault incidents lose the reason copied from
a caller's report

`public_ref` names an outage in public answers instead of its sequential id (existing outages
get one here). `reason_en` is a cut's or incident's reason in English. `area_points` counts
the located reports an automatic fault area was drawn around. Until now an incident's reason
was only ever the first caller's own words, which are personal data kept on the report: they
are cleared, so customers read the cause's wording instead.

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
    for outage_id, ref in zip(ids, refs, strict=True):
        conn.execute(outages.update().where(outages.c.id == outage_id).values(public_ref=ref))
    op.create_index("ix_outages_public_ref", "outages", ["public_ref"], unique=True)
    op.execute(outages.update().where(outages.c.kind == "fault").values(reason=None))


def downgrade() -> None:
    op.drop_index("ix_outages_public_ref", table_name="outages")
    op.drop_column("outages", "reason_en")
    op.drop_column("outages", "area_points")
    op.drop_column("outages", "public_ref")
