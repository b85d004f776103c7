"""Which failures the kit retries (transient) and which it isolates and dead-letters."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc

from keel_kit.faults import is_transient
from keel_kit.handlers import PermanentError, TransientError

pytestmark = pytest.mark.unit


class DriverError(Exception):
    """What a database driver raises: an exception carrying the server's SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def wrapped(sqlstate: str, kind: type[sa_exc.DBAPIError] = sa_exc.DBAPIError) -> BaseException:
    return kind("UPDATE stock_balance ...", {}, DriverError(sqlstate))


@pytest.mark.parametrize(
    "sqlstate",
    ["40001", "40P01", "55P03", "57P01", "57P03", "08006", "53300"],
    ids=["serialization", "deadlock", "lock-timeout", "admin-shutdown", "starting", "lost", "full"],
)
def test_database_answers_that_say_try_again_are_transient(sqlstate: str) -> None:
    assert is_transient(wrapped(sqlstate))


@pytest.mark.parametrize(
    "sqlstate",
    ["22001", "22003", "23505", "42P01"],
    ids=["too-long", "out-of-range", "unique", "undefined-table"],
)
def test_database_answers_about_the_data_are_not(sqlstate: str) -> None:
    assert not is_transient(wrapped(sqlstate, sa_exc.IntegrityError))
    assert not is_transient(wrapped(sqlstate, sa_exc.OperationalError))


def test_a_dropped_connection_is_transient_whatever_the_error_class() -> None:
    error = sa_exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)

    assert is_transient(error)


def test_sqlite_locked_and_the_kits_own_kinds_are_sorted_as_named() -> None:
    locked = sa_exc.OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    assert is_transient(locked)
    assert is_transient(TransientError("payment provider away"))
    assert is_transient(ConnectionRefusedError())
    assert not is_transient(PermanentError("unknown sku"))
    assert not is_transient(ValueError("quantity 4 is refused"))


def test_an_error_raised_from_a_transient_one_is_transient() -> None:
    error = RuntimeError("reservation failed")
    error.__cause__ = wrapped("40P01")

    assert is_transient(error)
