"""calls (网格呼叫): calls and their ratings, events of calls, call and proxy drafts, tickets filed by grid workers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 07:55:13.270965
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('caller_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('matter_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('urgency', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('respond_due', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('arrive_due', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('responded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('responder', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('arrived_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('arrival_latitude', sa.Float(), nullable=True),
    sa.Column('arrival_longitude', sa.Float(), nullable=True),
    sa.Column('arrival_distance_m', sa.Float(), nullable=True),
    sa.Column('arrival_within_radius', sa.Boolean(), nullable=True),
    sa.Column('arrival_photo', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('arrival_confirmed', sa.Boolean(), nullable=True),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['caller_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], ),
    sa.ForeignKeyConstraint(['matter_code'], ['matter.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_caller_id'), ['caller_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_call_department_state', ['department_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_number'), ['number'], unique=True)

    op.create_table('callrating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('speed', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('arrival', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id', 'member_id')
    )
    with op.batch_alter_table('callrating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callrating_call_id'), ['call_id'], unique=False)

    with op.batch_alter_table('dailycounter', schema=None) as batch_op:
        batch_op.alter_column('day',
               existing_type=sa.VARCHAR(length=8),
               type_=sqlmodel.sql.sqltypes.AutoString(length=16),
               existing_nullable=False)

    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='request'))
        batch_op.add_column(sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('urgency', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('on_behalf_of', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_draft_on_behalf_of_member', 'member', ['on_behalf_of'], ['id'])
        batch_op.add_column(sa.Column('call_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_draft_call_id_call', 'call', ['call_id'], ['id'])

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_id', sa.Integer(), nullable=True))
        batch_op.alter_column('ticket_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_event_call_id'), ['call_id'], unique=False)
        batch_op.create_foreign_key('fk_event_call_id_call', 'call', ['call_id'], ['id'])

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filed_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_ticket_filed_by_member', 'member', ['filed_by'], ['id'])



def downgrade() -> None:
    raise NotImplementedError("restore a backup taken before upgrading (gridbot db backup)")
