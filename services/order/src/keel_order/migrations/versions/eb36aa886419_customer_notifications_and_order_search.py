"""customer notifications and order search

Revision ID: eb36aa886419
Revises: 9b1e4c2d7a30
Create Date: 2026-12-07 04:20:10.776282
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'eb36aa886419'
down_revision: str | None = '9b1e4c2d7a30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customer_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('customer_notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_notification_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_notification_sent_at'), ['sent_at'], unique=False)

    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_external_id'), ['external_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_external_id'))

    with op.batch_alter_table('customer_notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_notification_sent_at'))
        batch_op.drop_index(batch_op.f('ix_customer_notification_order_id'))

    op.drop_table('customer_notification')
