"""stock adjustment costs

Revision ID: c4e1a7d93b20
Revises: 53795d9db5f3
Create Date: 2026-12-08 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'c4e1a7d93b20'
down_revision: str | None = '53795d9db5f3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Adjustments are new: nothing posted before this revision needs a row.
    op.create_table('stock_adjustment_cost',
    sa.Column('movement_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('adjustment_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('location_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reason_code', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('movement_id')
    )


def downgrade() -> None:
    op.drop_table('stock_adjustment_cost')
