"""supplier reliability: first promised date, first receipt, lead-time spread

Revision ID: e91f47f15dca
Revises: 3700d9d82c7a
Create Date: 2026-11-28 02:08:37.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e91f47f15dca'
down_revision: str | None = '3700d9d82c7a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promised_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('first_received_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('replenishment_suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_time_sigma', sa.Numeric(precision=18, scale=4), nullable=True))
        batch_op.add_column(sa.Column('safety_stock', sa.Numeric(precision=18, scale=4), nullable=True))

    # Until now a date could not move, so an order's expected date is the one first promised;
    # its first goods arrived with its earliest receipt.
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE purchase_order SET promised_date = expected_date"))
    connection.execute(
        sa.text(
            "UPDATE purchase_order SET first_received_at = ("
            "SELECT MIN(receipt.received_at) FROM receipt "
            "WHERE receipt.po_id = purchase_order.po_id)"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table('replenishment_suggestion', schema=None) as batch_op:
        batch_op.drop_column('safety_stock')
        batch_op.drop_column('lead_time_sigma')

    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.drop_column('first_received_at')
        batch_op.drop_column('promised_date')
