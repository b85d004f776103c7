"""sign-in lockout

Revision ID: 031ff204e75f
Revises: fd4fe50e1737
Create Date: 2026-12-07 05:03:42.082132
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '031ff204e75f'
down_revision: str | None = 'fd4fe50e1737'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('console_user', schema=None) as batch_op:
        # People added before this revision start with no failed sign-ins.
        batch_op.add_column(sa.Column('failed_signins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('console_user', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_signins')

