"""Tables the kit keeps in every service's database, beside the service's own.

They are plain SQLAlchemy mappings rather than SQLModel models because they sit on the hottest
path (a row per message in and out) and a SQLModel instance costs several times more to build.
They share SQLModel's metadata, so each service's migrations see them.
"""

from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import JSON, BigInteger, DateTime, Integer, LargeBinary, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import SQLModel

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_BIGINT_ID = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class KitTable(DeclarativeBase):
    metadata = SQLModel.metadata


class OutboxRecord(KitTable):
    """A message waiting to be published, written in the same transaction as its cause.

    Rows are published in id order and deleted once the broker has acknowledged them.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(249))
    key: Mapped[str] = mapped_column(Text)  # any key a dead letter may carry
    event_id: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InboxRecord(KitTable):
    """Proof that a consumer applied an event: written in the transaction of its effects."""

    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdempotencyRecord(KitTable):
    """The first answer to a POST with an Idempotency-Key, replayed for the same key and body."""

    __tablename__ = "idempotency_key"

    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# Staged like the outbox: a batch of orders remembers its answers in one insert.
IDEMPOTENCY: Table = KitTable.metadata.tables[IdempotencyRecord.__tablename__]


class JobSchedule(KitTable):
    """The last period a periodic job ran for, claimed in the transaction of the job's work.

    A period is the job's interval counted from the epoch (a daily job's period is a UTC day),
    so replicas agree on it without talking, and a run commits with its period or not at all.
    """

    __tablename__ = "job_schedule"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_period: Mapped[int] = mapped_column(BigInteger)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# The outbox as a Core table: the outbox stages plain rows for one bulk insert (keel_kit.staged).
OUTBOX: Table = KitTable.metadata.tables[OutboxRecord.__tablename__]


class OutboxRow(NamedTuple):
    """An outbox row as the relay reads it: plain values, no ORM object built per row."""

    id: int
    topic: str
    key: str
    event_id: str
    type: str
    body: bytes
    headers: dict[str, Any]
    created_at: datetime


class OutboxParked(KitTable):
    """An outbox row the broker can never accept (too large, say), set aside with the reason so
    the rows behind it flow on; an operator replays it into the outbox once the cause is fixed.
    """

    __tablename__ = "outbox_parked"

    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(249))
    key: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    parked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str] = mapped_column(Text)


class AuditEntry(KitTable):
    """One governed action, chained to the one before it by hash (see keel_kit.audit).

    Its time is kept as the ISO text it was hashed with, so the hash recomputes exactly on
    every database (SQLite would hand a timestamp back without its zone)."""

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(255), index=True)
    owner_role: Mapped[str] = mapped_column(String(40))
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    trace_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(KitTable):
    """The chain's last link, one row: appending locks it, so entries are chained one at a
    time, and an entry deleted from the end shows as the head pointing past the last one."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class ConsumerPosition(KitTable):
    """The next offset a consumer reads in a partition, written with the batch it follows."""

    __tablename__ = "consumer_position"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    topic: Mapped[str] = mapped_column(String(249), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)


class PartnerSecret(KitTable):
    """A partner's signing secret (Standard Webhooks, symmetric). Two may be active at once, so
    a partner can rotate without a gap; a revoked one stays, for the record."""

    __tablename__ = "partner_secret"

    secret_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner: Mapped[str] = mapped_column(String(120), index=True)  # channel:<id>, warehouse:<id>
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class PartnerRequest(KitTable):
    """A signed request's `webhook-id`, taken once per partner, with the answer it was given
    (null while it runs). Kept only as long as a signature stays fresh, and a while more."""

    __tablename__ = "partner_request"

    partner: Mapped[str] = mapped_column(String(120), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
