"""people not chats, cards, attachments, subjects, indexes

Outbox rows are addressed to a member or a department (the chat is resolved at delivery); live cards get their
own table; photos move from a column to attachments; timers belong to a subject (a ticket, later a call); the
indexes that every change uses. Existing rows are carried over: an outbox row's chat becomes its member's or
department's address (an unknown chat stays addressed as "chat:<id>"), photos become attachments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:44:48.477340
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_SQLITE = sa.text('fired_at IS NULL AND cancelled = 0')
LIVE_PG = sa.text('fired_at IS NULL AND cancelled = false')


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    op.create_table('card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('buttons', sa.JSON(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subject_kind', 'subject_id', 'key')
    )
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.create_index('ix_card_message', ['chat_id', 'message_id'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('draft_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['draft.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_draft_id'), ['draft_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_ticket_id'), ['ticket_id'], unique=False)
    op.execute("INSERT INTO attachment (ticket_id, kind, purpose, file_id, created_at) "
               "SELECT id, 'photo', 'request', photo_file_id, created_at FROM ticket WHERE photo_file_id IS NOT NULL")
    op.execute("INSERT INTO attachment (draft_id, kind, purpose, file_id, created_at) "
               "SELECT id, 'photo', 'request', photo_file_id, created_at FROM draft WHERE photo_file_id IS NOT NULL")

    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arrival_waiver', sa.Text(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_assignment_department_id'))
        batch_op.create_index('ix_assignment_department_state', ['department_id', 'state'], unique=False)

    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_column('photo_file_id')

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.alter_column('telegram_id', existing_type=sa.BIGINT(), nullable=True)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('card_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('media', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('options', sa.JSON(), nullable=True))
        batch_op.alter_column('chat_id', existing_type=sa.BIGINT(), nullable=True)
    op.execute("UPDATE outbox SET recipient = (SELECT 'member:' || m.id FROM member m "
               "WHERE m.telegram_id = outbox.chat_id) WHERE recipient IS NULL")
    op.execute("UPDATE outbox SET recipient = (SELECT 'department:' || d.id FROM department d "
               "WHERE d.chat_id = outbox.chat_id) WHERE recipient IS NULL")
    op.execute("UPDATE outbox SET recipient = (SELECT 'supervisor:' || d.id FROM department d "
               "WHERE d.supervisor_chat_id = outbox.chat_id LIMIT 1) WHERE recipient IS NULL")
    op.execute("UPDATE outbox SET recipient = 'chat:' || chat_id WHERE recipient IS NULL")
    # Pending messages are delivered as before; the sender resolves the chat again from the recipient.
    op.execute("UPDATE outbox SET chat_id = NULL WHERE state = 'pending'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('recipient', existing_type=sqlmodel.sql.sqltypes.AutoString(length=40),
                              nullable=False)
        batch_op.drop_index(batch_op.f('ix_outbox_heads'))
        batch_op.create_index('ix_outbox_heads', ['state', 'recipient', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_ticket_id'), ['ticket_id'], unique=False)
        if not _sqlite():
            batch_op.drop_constraint('outbox_edit_of_fkey', type_='foreignkey')
        batch_op.create_foreign_key('fk_outbox_card_id_card', 'card', ['card_id'], ['id'])
        batch_op.drop_column('edit_of')  # a pending edit of the old kind is delivered as a new message

    with op.batch_alter_table('pendinginput', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('outbox_id', sa.Integer(), nullable=True))
        batch_op.alter_column('chat_id', existing_type=sa.BIGINT(), nullable=True)
        batch_op.alter_column('user_id', existing_type=sa.BIGINT(), nullable=True)
        batch_op.create_foreign_key('fk_pendinginput_outbox_id_outbox', 'outbox', ['outbox_id'], ['id'])
        batch_op.create_foreign_key('fk_pendinginput_member_id_member', 'member', ['member_id'], ['id'])

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_duplicates', ['grid_id', 'matter_code', 'created_at'], unique=False)
        batch_op.drop_column('photo_file_id')

    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('subject_id', sa.Integer(), nullable=True))
    op.execute("UPDATE timer SET subject_kind = 'ticket', subject_id = ticket_id")
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.alter_column('subject_kind', existing_type=sqlmodel.sql.sqltypes.AutoString(length=16),
                              nullable=False)
        batch_op.alter_column('subject_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index(batch_op.f('ix_timer_due'))
        batch_op.drop_index(batch_op.f('ix_timer_ticket_id'))
        batch_op.create_index('ix_timer_live_due', ['due_at'], unique=False, sqlite_where=LIVE_SQLITE,
                                  postgresql_where=LIVE_PG)
        batch_op.create_index('ix_timer_subject', ['subject_kind', 'subject_id'], unique=False)
        if not _sqlite():
            batch_op.drop_constraint('timer_ticket_id_fkey', type_='foreignkey')
        batch_op.drop_column('ticket_id')


def downgrade() -> None:
    raise NotImplementedError("0003 moves data between tables; restore a backup taken before upgrading instead")
