"""shipped units of each allocation

Revision ID: ea5886f53195
Revises: 0563845049e8
Create Date: 2026-12-07 22:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'ea5886f53195'
down_revision: str | None = '0563845049e8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reservation_allocation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipped', sa.Integer(), nullable=False, server_default='0'))

    # A committed reservation's allocations shipped what its reserved movements no longer hold
    # (each reserved movement names the reservation it holds for), between none and all of it.
    op.execute(
        "UPDATE reservation_allocation SET shipped = CASE "
        "WHEN held.units >= reservation_allocation.quantity THEN 0 "
        "WHEN held.units <= 0 THEN reservation_allocation.quantity "
        "ELSE reservation_allocation.quantity - held.units END "
        "FROM (SELECT reference, sku, location_id, SUM(quantity) AS units FROM stock_movement "
        "WHERE state = 'reserved' GROUP BY reference, sku, location_id) AS held "
        "WHERE held.reference = reservation_allocation.reservation_id "
        "AND held.sku = reservation_allocation.sku "
        "AND held.location_id = reservation_allocation.location_id "
        "AND reservation_allocation.reservation_id IN "
        "(SELECT reservation_id FROM reservation WHERE status = 'committed')"
    )


def downgrade() -> None:
    with op.batch_alter_table('reservation_allocation', schema=None) as batch_op:
        batch_op.drop_column('shipped')
