"""scheduled reports (issue 12): one row per report and period (the daily brief, the monthly ranking), fired once

Revision ID: 0009
Revises: 0008
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("reportrun",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column("period_start", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("period_end", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("fired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column("skipped", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("kind", "period_start"),
    )
    with op.batch_alter_table("reportrun", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reportrun_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("restore a backup taken before upgrading (gridbot db backup)")
