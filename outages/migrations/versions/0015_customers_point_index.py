"""customers: a GiST index on each customer's point where the database has PostGIS, so area
matching asks ST_Covers instead of a bounding box and shapely (nothing changes without it)

Revision ID: 0015
Revises: 0010
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEX = "ix_customers_point"  # outages.registry.pgcolumns.POINT_INDEX
POINT = "ST_SetSRID(ST_MakePoint(lon, lat), 4326)"  # outages.registry.pgcolumns.POINT


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first():
        op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON customers USING gist (({POINT}))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
