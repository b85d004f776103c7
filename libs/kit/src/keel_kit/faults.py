"""Which failures are worth retrying: one answer for every consumer, job and relay.

A transient failure says nothing about the message: the database or the broker was briefly
away, or two transactions collided. Retrying the same work later succeeds, so it must never be
dead-lettered. Everything else is the message's own fault (or a bug) and is isolated.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from keel_kit.handlers import TransientError

# SQLSTATE classes and codes PostgreSQL uses for "try again": 08 connection exception,
# 40 transaction rollback (40001 serialization failure, 40P01 deadlock), 57 operator
# intervention (57P01 admin shutdown, 57P03 cannot connect now), 53300 too many connections,
# 55P03 lock not available (a lock timeout or NOWAIT).
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "57"})
TRANSIENT_SQLSTATES = frozenset({"53300", "55P03"})


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE behind a database error, whether SQLAlchemy wrapped it or not."""
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code if isinstance(code, str) else None


def is_transient(error: BaseException) -> bool:
    """Whether the same work may succeed if tried again later."""
    if isinstance(error, TransientError | ConnectionError | TimeoutError | sa_exc.TimeoutError):
        return True  # sa_exc.TimeoutError: no pooled connection came free in time
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True  # the connection died under the statement
    code = sqlstate(error)
    if code is not None:
        return code[:2] in TRANSIENT_SQLSTATE_CLASSES or code in TRANSIENT_SQLSTATES
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return True  # no SQLSTATE: SQLite's "database is locked", a driver losing its socket
    cause = error.__cause__
    return cause is not None and cause is not error and is_transient(cause)
