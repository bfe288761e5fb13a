"""named_areas: named polygons (districts, wards, feeder zones) to pick on the console's map

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifier.sqltypes import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "named_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("geometry", sa.Text, nullable=False),
        sa.Column("min_lon", sa.Float, nullable=False),
        sa.Column("min_lat", sa.Float, nullable=False),
        sa.Column("max_lon", sa.Float, nullable=False),
        sa.Column("max_lat", sa.Float, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_named_areas"),
        sa.UniqueConstraint("name", "kind", name="uq_named_areas_name"),
    )


def downgrade() -> None:
    op.drop_table("named_areas")
