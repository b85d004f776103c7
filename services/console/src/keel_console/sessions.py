"""Sessions: a random secret in an HttpOnly, SameSite=Strict cookie (Secure over https), its
SHA-256 in the database, and two clocks: idle and absolute.

A session ends when it has not been used for `session_idle_minutes`, `session_max_hours` after
sign-in however busy it is, or at sign-out. Each session has its own CSRF token, which every form
the console renders carries and every POST must send back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_console.models import ConsoleSession
from keel_contracts.roles import Role
from keel_contracts.times import as_utc

COOKIE = "keel_console_session"
# The last-seen time is written at most this often: a page view need not be a database write.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionRules:
    idle: timedelta
    longest: timedelta


@dataclass(frozen=True)
class SignedIn:
    """Who the browser is, as a page needs it."""

    username: str
    role: Role
    csrf_token: str
    access_token: str | None = None  # the company provider's, when signed in there

    def csrf_matches(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent, self.csrf_token)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def start(
    session: AsyncSession,
    *,
    username: str,
    role: str,
    rules: SessionRules,
    now: datetime,
    access_token: str | None = None,
    token_expires_at: datetime | None = None,
) -> str:
    """A new session for the person (with the provider's access token, which ends it when it
    expires); returns the secret for the cookie (shown only once)."""
    secret = secrets.token_urlsafe(32)
    ends = now + rules.longest
    session.add(
        ConsoleSession(
            secret_hash=_digest(secret),
            username=username,
            role=role,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=min(ends, token_expires_at) if token_expires_at else ends,
            access_token=access_token,
        )
    )
    # Ended sessions go as new ones start, so the table holds only live ones and a few stale.
    await session.exec(delete(ConsoleSession).where(col(ConsoleSession.expires_at) < now))
    return secret


async def find(
    session: AsyncSession, secret: str | None, *, rules: SessionRules, now: datetime
) -> SignedIn | None:
    """The live session the cookie names, its idle clock restarted; None if there is none."""
    if not secret:
        return None
    row = await session.get(ConsoleSession, _digest(secret))
    if row is None:
        return None
    if as_utc(row.expires_at) <= now or as_utc(row.last_seen_at) + rules.idle <= now:
        await session.delete(row)
        return None
    if now - as_utc(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return SignedIn(
        username=row.username,
        role=Role(row.role),
        csrf_token=row.csrf_token,
        access_token=row.access_token,
    )


async def end(session: AsyncSession, secret: str | None) -> None:
    if secret:
        await session.exec(
            delete(ConsoleSession).where(col(ConsoleSession.secret_hash) == _digest(secret))
        )
