"""The console's own tables: local users and sessions, nothing of the business."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Text
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class ConsoleUser(SQLModel, table=True):
    """A person who signs in with a password (locally; in production the company's identity
    provider knows them instead). Only an argon2 hash of the password is kept."""

    __tablename__ = "console_user"

    username: str = Field(primary_key=True, max_length=100)
    role: str = Field(max_length=30)  # a keel_contracts.roles staff Role
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    password_changed_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    # Wrong passwords in a row, and the time until which the name is locked after too many.
    failed_signins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries a random secret; only its SHA-256 is kept, so
    reading this table gives nobody a live session."""

    __tablename__ = "console_session"

    secret_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(index=True, max_length=100)
    role: str = Field(max_length=30)
    csrf_token: str = Field(max_length=64)  # every form of the session carries it
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    last_seen_at: datetime = Field(sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(index=True, sa_type=DateTime(timezone=True))  # the hard end
    # Signed in through the company's provider: its access token, passed on to the services
    # (the session ends when it does). None for a local password's session.
    access_token: str | None = Field(default=None, sa_type=Text)
