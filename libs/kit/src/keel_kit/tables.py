"""Tables the kit keeps in every service's database, beside the service's own."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, LargeBinary
from sqlmodel import Field, SQLModel

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_BIGINT_ID = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxRecord(SQLModel, table=True):
    """A message waiting to be published, written in the same transaction as its cause.

    Rows are published in id order and deleted once the broker has acknowledged them.
    """

    __tablename__ = "outbox"

    id: int | None = Field(
        default=None, sa_column=Column(_BIGINT_ID, primary_key=True, autoincrement=True)
    )
    topic: str = Field(max_length=249)
    key: str = Field(max_length=255)
    event_id: str = Field(max_length=36)
    type: str = Field(max_length=100)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class InboxRecord(SQLModel, table=True):
    """Proof that a consumer applied an event: written in the transaction of its effects."""

    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=36)
    processed_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
