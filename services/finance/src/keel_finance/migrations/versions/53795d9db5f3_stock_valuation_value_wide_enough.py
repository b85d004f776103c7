"""stock valuation value wide enough for a full stock

Revision ID: 53795d9db5f3
Revises: 0d088d7e25e2
Create Date: 2026-12-06 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '53795d9db5f3'
down_revision: str | None = '0d088d7e25e2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A SKU's value is its units on hand (a 32-bit integer) at up to the largest unit cost the
    # doors accept (below 10**8): up to about 2.2 x 10**17, past Numeric(18, 2). Widening a
    # numeric's precision keeps its scale, so PostgreSQL rewrites nothing.
    with op.batch_alter_table('stock_valuation', schema=None) as batch_op:
        batch_op.alter_column(
            'value',
            existing_type=sa.Numeric(precision=18, scale=2),
            type_=sa.Numeric(precision=24, scale=2),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('stock_valuation', schema=None) as batch_op:
        batch_op.alter_column(
            'value',
            existing_type=sa.Numeric(precision=24, scale=2),
            type_=sa.Numeric(precision=18, scale=2),
            existing_nullable=False,
        )
