"""Finance tables: the journal is append-only; an entry's lines always balance."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from keel_kit.tables import utcnow


class JournalEntry(SQLModel, table=True):
    __tablename__ = "journal_entry"
    # One entry per source document and kind: a second posting of one receipt cannot exist.
    __table_args__ = (UniqueConstraint("source_type", "source_id"),)

    entry_id: str = Field(primary_key=True, max_length=36)
    source_type: str = Field(max_length=50)
    source_id: str = Field(index=True, max_length=64)
    currency: str = Field(max_length=3)
    memo: str = Field(max_length=200)
    posted_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class JournalLine(SQLModel, table=True):
    __tablename__ = "journal_line"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: str = Field(foreign_key="journal_entry.entry_id", index=True, max_length=36)
    account: str = Field(index=True, max_length=10)
    debit: Decimal = Field(sa_type=Numeric(18, 2))
    credit: Decimal = Field(sa_type=Numeric(18, 2))
