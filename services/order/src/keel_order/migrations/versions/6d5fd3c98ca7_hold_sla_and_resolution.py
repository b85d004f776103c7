"""hold sla and resolution

Revision ID: 6d5fd3c98ca7
Revises: f48746fa853b
Create Date: 2026-11-27 23:22:48.088571
"""
from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '6d5fd3c98ca7'
down_revision: str | None = 'f48746fa853b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The SLAs when this revision was written (domain.HOLD_SLA), frozen here so that a later change
# of an SLA does not rewrite how old holds were backfilled.
SLA_HOURS = {'payment_hold': 24, 'fraud_review': 4, 'limit_review': 8, 'validation_timeout': 1}
DEFAULT_SLA_HOURS = 24


def upgrade() -> None:
    # Holds opened before SLAs existed get due_at = opened_at + their type's SLA: the column is
    # added nullable, filled, then made NOT NULL.
    with op.batch_alter_table('order_hold', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolution_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))

    hold = sa.table(
        'order_hold',
        sa.column('id', sa.Integer()),
        sa.column('type', sa.String()),
        sa.column('opened_at', sa.DateTime(timezone=True)),
        sa.column('due_at', sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(hold.c.id, hold.c.type, hold.c.opened_at)).all()
    for hold_id, hold_type, opened_at in rows:
        hours = SLA_HOURS.get(hold_type, DEFAULT_SLA_HOURS)
        connection.execute(
            hold.update()
            .where(hold.c.id == hold_id)
            .values(due_at=opened_at + timedelta(hours=hours))
        )

    # An order that ends now closes its open holds; close those of orders that already ended.
    connection.execute(
        sa.text(
            "UPDATE order_hold SET resolved_at = CURRENT_TIMESTAMP, resolution = 'closed', "
            "resolution_note = 'the order had ended', resolved_by = 'system' "
            "WHERE resolved_at IS NULL AND order_id IN (SELECT order_id FROM sales_order "
            "WHERE status IN ('cancelled', 'rejected', 'closed'))"
        )
    )

    with op.batch_alter_table('order_hold', schema=None) as batch_op:
        batch_op.alter_column('due_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index(batch_op.f('ix_order_hold_due_at'), ['due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('order_hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_hold_due_at'))
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('resolution_note')
        batch_op.drop_column('due_at')
