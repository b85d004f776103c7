"""Service tests: a supplier's delay of a confirmed purchase order moves its on-order stock to the
new expected date, as availability shows it; applied again, it changes nothing more."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from inventory_harness import Inventory
from keel_contracts.events import (
    PurchaseOrderCancelled,
    PurchaseOrderConfirmed,
    PurchaseOrderDelayed,
)
from keel_contracts.values import Line

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def when(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def confirmed(
    po_id: str, *lines: tuple[str, int], expected: str = "2030-05-04", location_id: str = "WH-A"
) -> PurchaseOrderConfirmed:
    return PurchaseOrderConfirmed(
        purchase_order_id=po_id,
        supplier_id="SUP-1",
        location_id=location_id,
        lines=tuple(Line(sku=sku, quantity=n) for sku, n in lines),
        expected_at=when(expected),
    )


def delayed(
    po_id: str,
    *lines: tuple[str, int],
    previous: str = "2030-05-04",
    expected: str = "2030-06-10",
    location_id: str = "WH-A",
) -> PurchaseOrderDelayed:
    return PurchaseOrderDelayed(
        purchase_order_id=po_id,
        supplier_id="SUP-1",
        location_id=location_id,
        lines=tuple(Line(sku=sku, quantity=n) for sku, n in lines),
        previous_expected_at=when(previous),
        expected_at=when(expected),
    )


async def locations(inventory: Inventory, sku: str) -> dict[str, dict[str, Any]]:
    response = await inventory.client.get(f"/v1/availability/{sku}")
    assert response.status_code == 200, response.text
    return {loc.pop("location_id"): loc for loc in response.json()["locations"]}


async def test_a_delay_moves_the_orders_on_order_stock_to_the_new_date(
    inventory: Inventory,
) -> None:
    await inventory.apply(confirmed("PO-1", ("MUG", 10), ("PLATE", 4)), max_attempts=3)

    applied = await inventory.apply(delayed("PO-1", ("MUG", 10), ("PLATE", 4)), max_attempts=3)

    assert applied == 1
    for sku, on_order in (("MUG", 10), ("PLATE", 4)):
        assert await locations(inventory, sku) == {
            "WH-A": {
                "sellable": 0,
                "reserved": 0,
                "available": 0,
                "on_order": on_order,
                "next_expected_date": "2030-06-10",
                "in_transit": 0,
            }
        }


async def test_a_delayed_order_no_longer_hides_an_earlier_one(inventory: Inventory) -> None:
    await inventory.apply(
        confirmed("PO-1", ("MUG", 10), expected="2030-05-04"),
        confirmed("PO-2", ("MUG", 5), expected="2030-05-20"),
        confirmed("PO-3", ("MUG", 2), expected="2030-05-01", location_id="WH-B"),
        max_attempts=3,
    )

    await inventory.apply(delayed("PO-1", ("MUG", 10), expected="2030-07-01"), max_attempts=3)

    found = await locations(inventory, "MUG")
    assert (found["WH-A"]["on_order"], found["WH-A"]["next_expected_date"]) == (15, "2030-05-20")
    assert found["WH-B"]["next_expected_date"] == "2030-05-01"  # another order: untouched


async def test_a_delay_applied_again_changes_nothing(inventory: Inventory) -> None:
    await inventory.apply(confirmed("PO-1", ("MUG", 10)), max_attempts=3)
    delay = delayed("PO-1", ("MUG", 10))
    await inventory.apply(delay, max_attempts=3)
    before = await locations(inventory, "MUG")

    # Each delivery is wrapped under a new event id, so the inbox cannot drop them.
    applied = await inventory.apply(delay, delay, max_attempts=3)

    assert applied == 2
    assert await locations(inventory, "MUG") == before
    assert before["WH-A"]["next_expected_date"] == "2030-06-10"


async def test_a_second_delay_moves_the_date_again(inventory: Inventory) -> None:
    await inventory.apply(confirmed("PO-1", ("MUG", 10)), max_attempts=3)

    await inventory.apply(
        delayed("PO-1", ("MUG", 10), expected="2030-06-10"),
        delayed("PO-1", ("MUG", 10), previous="2030-06-10", expected="2030-06-24"),
        max_attempts=3,
    )

    assert (await locations(inventory, "MUG"))["WH-A"]["next_expected_date"] == "2030-06-24"


async def test_a_delay_of_a_cancelled_or_unknown_order_puts_nothing_on_order(
    inventory: Inventory,
) -> None:
    await inventory.apply(
        confirmed("PO-1", ("MUG", 10)), confirmed("PO-2", ("MUG", 3)), max_attempts=3
    )
    await inventory.apply(
        PurchaseOrderCancelled(
            purchase_order_id="PO-1", supplier_id="SUP-1", location_id="WH-A", reason="late"
        ),
        max_attempts=3,
    )

    applied = await inventory.apply(
        delayed("PO-1", ("MUG", 10)), delayed("PO-9", ("PLATE", 1)), max_attempts=3
    )

    assert applied == 2
    assert await locations(inventory, "MUG") == {
        "WH-A": {
            "sellable": 0,
            "reserved": 0,
            "available": 0,
            "on_order": 3,
            "next_expected_date": "2030-05-04",
            "in_transit": 0,
        }
    }
    assert await locations(inventory, "PLATE") == {}
