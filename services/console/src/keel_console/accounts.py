"""Local users: a name, one staff role, and an argon2id hash of the password (argon2-cffi, with
its current default cost). `keel user add` writes them; sign-in reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_console.models import ConsoleUser
from keel_contracts.roles import STAFF_ROLES, Role
from keel_contracts.times import as_utc

# Guessing is slowed per name: after this many wrong passwords in a row the name is locked for
# a while, whatever password comes (the right one included).
MAX_FAILED_SIGNINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
MAX_NAME_LENGTH = 100

_hasher = PasswordHasher()
# Checked when the name is unknown, so a wrong name costs the same time as a wrong password and
# sign-in does not tell which names exist.
_DECOY_HASH = _hasher.hash("a password nobody has")


class BadAccount(ValueError):
    """A name, role or password that cannot make an account; the message says which and why."""


def check_new(username: str, role: str, password: str) -> Role:
    """The role, once the name, role and password are fit for an account."""
    if not username or len(username) > MAX_NAME_LENGTH or not username.isprintable():
        raise BadAccount(f"a name is 1 to {MAX_NAME_LENGTH} printable characters")
    if username != username.strip() or username.startswith("service:"):
        raise BadAccount("a name has no surrounding spaces and is not a service's")
    if role not in {r.value for r in STAFF_ROLES}:
        raise BadAccount(f"a person's role is one of {', '.join(r.value for r in STAFF_ROLES)}")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise BadAccount(f"a password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
    return Role(role)


async def set_user(session: AsyncSession, username: str, role: str, password: str) -> bool:
    """Add the person, or give an existing one this role and password; True when added."""
    checked = check_new(username, role, password)
    password_hash = _hasher.hash(password)
    user = await session.get(ConsoleUser, username)
    if user is None:
        session.add(ConsoleUser(username=username, role=checked, password_hash=password_hash))
        return True
    user.role = checked
    user.password_hash = password_hash
    user.password_changed_at = datetime.now(UTC)
    user.failed_signins, user.locked_until = 0, None  # an administrator's reset unlocks
    session.add(user)
    return False


async def authenticate(
    session: AsyncSession, username: str, password: str, *, now: datetime
) -> ConsoleUser | None:
    """The user whose name and password these are, or None (the same for either mistake, and
    for a name locked after too many wrong passwords)."""
    user = await session.get(ConsoleUser, username) if username else None
    try:
        _hasher.verify(user.password_hash if user else _DECOY_HASH, password)
        right = True
    except (VerificationError, InvalidHashError):
        right = False
    if user is None:
        return None
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        return None
    if not right:
        user.failed_signins += 1
        if user.failed_signins >= MAX_FAILED_SIGNINS:
            user.failed_signins, user.locked_until = 0, now + LOCKOUT
        session.add(user)
        return None
    user.failed_signins, user.locked_until = 0, None
    if _hasher.check_needs_rehash(user.password_hash):  # the library's cost moved up
        user.password_hash = _hasher.hash(password)
    session.add(user)
    return user
