"""where and what: how a ticket's grid was found, a draft's place and album, media sizes and the county's copies,
matters whose 办结 needs a photo

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 08:16:26.651471
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duration', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('stored_path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('media_group_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))

    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grid_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('grid_source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('media_group_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_foreign_key('fk_draft_grid_id_grid', 'grid', ['grid_id'], ['id'])

    with op.batch_alter_table('matter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result_photo', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grid_source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))



def downgrade() -> None:
    raise NotImplementedError("restore a backup taken before upgrading (gridbot db backup)")
