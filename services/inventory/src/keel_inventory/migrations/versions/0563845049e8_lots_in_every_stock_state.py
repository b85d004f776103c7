"""lots in every stock state

Revision ID: 0563845049e8
Revises: f21398174042
Create Date: 2026-12-07 10:50:45.691358
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0563845049e8'
down_revision: str | None = 'f21398174042'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every lot movement so far was of sellable units.
    with op.batch_alter_table('lot_movement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False, server_default='sellable'))

    # The state joins lot_stock's key: the projection is dropped and rebuilt from the lot ledger.
    op.drop_table('lot_stock')
    _create_lot_stock(with_state=True)
    op.execute(
        "INSERT INTO lot_stock (sku, location_id, lot, state, quantity) "
        "SELECT sku, location_id, lot, state, SUM(quantity) FROM lot_movement "
        "GROUP BY sku, location_id, lot, state"
    )


def downgrade() -> None:
    op.drop_table('lot_stock')
    _create_lot_stock(with_state=False)
    op.execute(
        "INSERT INTO lot_stock (sku, location_id, lot, quantity) "
        "SELECT sku, location_id, lot, SUM(quantity) FROM lot_movement "
        "WHERE state = 'sellable' GROUP BY sku, location_id, lot"
    )
    with op.batch_alter_table('lot_movement', schema=None) as batch_op:
        batch_op.drop_column('state')


def _create_lot_stock(*, with_state: bool) -> None:
    key = ['sku', 'location_id', 'lot'] + (['state'] if with_state else [])
    state = [sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False)]
    op.create_table('lot_stock',
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('location_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('lot', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    *(state if with_state else []),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*key)
    )
