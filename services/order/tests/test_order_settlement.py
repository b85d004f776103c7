"""When an accepted order counts as settled (`keel check`'s "every accepted order settled")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from keel_order.domain import Status
from keel_order.settlement import unsettled

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def why(
    status: Status,
    *,
    age: timedelta = MINUTE,
    holds: tuple[tuple[str, datetime], ...] = (),
    release_delay: timedelta = timedelta(0),
) -> str | None:
    return unsettled(
        status=status,
        updated_at=NOW - age,
        holds=holds,
        release_delay=release_delay,
        validation_timeout=5 * MINUTE,
        now=NOW,
    )


@pytest.mark.parametrize(
    "status",
    [Status.DELIVERED, Status.CLOSED, Status.CANCELLED, Status.REJECTED, Status.BACKORDERED],
)
def test_final_orders_and_orders_waiting_for_stock_are_settled(status: Status) -> None:
    assert why(status, age=timedelta(days=30)) is None


@pytest.mark.parametrize("status", [Status.RELEASED, Status.PARTIALLY_SHIPPED, Status.SHIPPED])
def test_orders_with_their_warehouse_or_carrier_are_settled(status: Status) -> None:
    assert why(status, age=timedelta(days=3)) is None


def test_an_order_validating_within_the_timeout_is_settled_past_it_is_not() -> None:
    assert why(Status.VALIDATING, age=4 * MINUTE) is None
    assert why(Status.VALIDATING, age=10 * MINUTE) == (
        "validating since 2026-12-06 11:50:00, past the validation timeout"
    )


def test_a_confirmed_order_waits_only_for_its_channels_release_delay() -> None:
    assert why(Status.CONFIRMED, age=10 * MINUTE, release_delay=timedelta(hours=1)) is None
    assert why(Status.CONFIRMED, age=10 * MINUTE) == (
        "confirmed since 2026-12-06 11:50:00 and never released"
    )


def test_an_order_on_hold_needs_an_open_hold_within_its_sla() -> None:
    due_later, overdue = NOW + MINUTE, NOW - MINUTE

    assert why(Status.ON_HOLD, holds=(("fraud_review", due_later),)) is None
    assert why(Status.ON_HOLD, holds=(("fraud_review", overdue),)) == "fraud_review hold overdue"
    assert why(Status.ON_HOLD, holds=(("supplier_delay", due_later),)) == (
        "on hold with no open hold to resolve"
    )


def test_an_overdue_notice_does_not_unsettle_a_backordered_order() -> None:
    assert why(Status.BACKORDERED, holds=(("supplier_delay", NOW - MINUTE),)) is None
