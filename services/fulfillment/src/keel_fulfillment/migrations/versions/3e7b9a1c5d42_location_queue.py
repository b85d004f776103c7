"""location queue index

Revision ID: 3e7b9a1c5d42
Revises: b01d0e7d8ba9
Create Date: 2026-12-07 04:20:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '3e7b9a1c5d42'
down_revision: str | None = 'b01d0e7d8ba9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index('ix_shipment_location_queue', ['location_id', 'status', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index('ix_shipment_location_queue')
