"""Partner signing: partners' secrets, and the webhook ids their signed requests used.

Revision ID: 0006_partner_signing
Revises: 0005_consumer_position
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_partner_signing"
down_revision: str | None = "0005_consumer_position"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_secret",
        sa.Column("secret_id", sa.String(length=36), nullable=False),
        sa.Column("partner", sa.String(length=120), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("secret_id"),
    )
    op.create_index("ix_partner_secret_partner", "partner_secret", ["partner"])
    op.create_table(
        "partner_request",
        sa.Column("partner", sa.String(length=120), nullable=False),
        sa.Column("webhook_id", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("partner", "webhook_id"),
    )
    op.create_index("ix_partner_request_received_at", "partner_request", ["received_at"])


def downgrade() -> None:
    op.drop_table("partner_request")
    op.drop_table("partner_secret")
