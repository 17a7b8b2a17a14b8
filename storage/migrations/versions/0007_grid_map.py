"""The grid map (issue 11): each grid's boundary, a GeoJSON Polygon in WGS-84 ([longitude, latitude]; NULL
until the county draws it), and its gazetteer of places (a JSON list of names). Written by `gridbot county load`
from the county file; read by bot/countymap.py through Directory.grid_map()."""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0007", "0006"


def upgrade() -> None:
    with op.batch_alter_table("grid", schema=None) as batch_op:
        batch_op.add_column(sa.Column("boundary", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("places", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    raise NotImplementedError("restore a backup taken before upgrading (gridbot db backup)")
