"""customer unit cap

Revision ID: a3c1f0d2b7e4
Revises: ce28aeaff8c9
Create Date: 2026-12-06 22:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'a3c1f0d2b7e4'
down_revision: str | None = 'ce28aeaff8c9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('channel', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_units_per_customer', sa.Integer(), nullable=True))
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_customer_id'))
    with op.batch_alter_table('channel', schema=None) as batch_op:
        batch_op.drop_column('max_units_per_customer')
