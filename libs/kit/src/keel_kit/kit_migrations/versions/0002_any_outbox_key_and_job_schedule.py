"""Outbox keys of any length (a dead letter keeps whatever key its message had); the periodic
jobs' schedule, so that one replica runs each period of a job, once.

Revision ID: 0002_outbox_key_job_schedule
Revises: 0001_kit_tables
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_outbox_key_job_schedule"
down_revision: str | None = "0001_kit_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("key", type_=sa.Text(), existing_type=sa.String(length=255))
    op.create_table(
        "job_schedule",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("last_period", sa.BigInteger(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("job_schedule")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("key", type_=sa.String(length=255), existing_type=sa.Text())
