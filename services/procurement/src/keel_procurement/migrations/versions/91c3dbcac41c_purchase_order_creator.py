"""purchase order creator: who drafted it, so they cannot approve it

Revision ID: 91c3dbcac41c
Revises: 6de75d872ea8
Create Date: 2026-12-06 16:59:42.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '91c3dbcac41c'
down_revision: str | None = '6de75d872ea8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATED_BY = sqlmodel.sql.sqltypes.AutoString(length=100)


def upgrade() -> None:
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', CREATED_BY, nullable=True))

    # An order a replenishment run drafted is known by its suggestions, which name the run; who
    # drafted the others by hand was never recorded, so nobody is kept from approving them.
    connection = op.get_bind()
    connection.execute(
        sa.text(
            "UPDATE purchase_order SET created_by = ("
            "SELECT 'replenishment-run:' || MIN(s.run_id) FROM replenishment_suggestion s "
            "WHERE s.po_id = purchase_order.po_id)"
        )
    )
    connection.execute(
        sa.text("UPDATE purchase_order SET created_by = 'unknown' WHERE created_by IS NULL")
    )

    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.alter_column('created_by', existing_type=CREATED_BY, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.drop_column('created_by')
