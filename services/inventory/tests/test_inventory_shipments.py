"""Service tests: a shipment consumes its reservation and issues the stock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inventory_harness import Inventory, reserve
from keel_contracts.events import Allocation, OrderConfirmed, OrderReleased, ShipmentShipped
from keel_contracts.values import Line
from keel_kit.tables import utcnow

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def shipped(
    order_id: str, location_id: str, *lines: tuple[str, int], again: int = 0
) -> ShipmentShipped:
    return ShipmentShipped(
        shipment_id=f"s-{order_id}-{location_id}" + (f"-{again}" if again else ""),
        order_id=order_id,
        location_id=location_id,
        lines=tuple(Line(sku=sku, quantity=q) for sku, q in lines),
        carrier="UPS",
        tracking_number="1Z",
    )


async def ship(inventory: Inventory, event: ShipmentShipped) -> None:
    await inventory.publish(event)


async def issued(inventory: Inventory) -> list[dict[str, object]]:
    stock = await inventory.staged("inventory.stock.v1")
    return [e.payload for e in stock if e.type == "stock.issued"]


async def test_split_shipments_issue_each_location_and_consume_the_reservation(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 2)
    await inventory.receive("MUG", "WH-B", 2)
    await inventory.publish(reserve("o-1", ("MUG", 3)))
    assert await inventory.stock("MUG") == {"WH-A": (2, 2), "WH-B": (2, 1)}

    await ship(inventory, shipped("o-1", "WH-A", ("MUG", 2)))
    await ship(inventory, shipped("o-1", "WH-B", ("MUG", 1)))

    assert await inventory.stock("MUG") == {"WH-A": (0, 0), "WH-B": (1, 0)}
    body = (await inventory.client.get("/v1/reservations/o-1")).json()
    assert body["status"] == "committed"
    assert [(e["location_id"], e["quantity"], e["unit_cost"]) for e in await issued(inventory)] == [
        ("WH-A", 2, {"amount": "1.0000", "currency": "USD"}),
        ("WH-B", 1, {"amount": "1.0000", "currency": "USD"}),
    ]
    await inventory.assert_invariants_hold()


async def test_shipments_beyond_what_the_order_held_take_no_other_orders_reserved_units(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 5)
    await inventory.publish(reserve("o-1", ("MUG", 2)))
    await inventory.publish(reserve("o-2", ("MUG", 2)))
    assert await inventory.stock("MUG") == {"WH-A": (5, 4)}

    await ship(inventory, shipped("o-1", "WH-A", ("MUG", 1)))
    # The warehouse sends one unit more than the order held: it leaves, from sellable stock.
    await ship(inventory, shipped("o-1", "WH-A", ("MUG", 2), again=1))

    assert await inventory.stock("MUG") == {"WH-A": (2, 2)}  # o-2's two units still held
    await inventory.assert_invariants_hold()


async def test_a_shipment_whose_reservation_expired_still_issues_the_stock(
    inventory: Inventory,
) -> None:
    await inventory.receive("PLATE", "WH-A", 3)
    await ship(inventory, shipped("o-2", "WH-A", ("PLATE", 1)))

    assert await inventory.stock("PLATE") == {"WH-A": (2, 0)}
    await inventory.assert_invariants_hold()


async def test_a_released_orders_hold_outlives_the_short_ttl(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 2)
    await inventory.publish(reserve("o-3", ("MUG", 1)))
    released = OrderReleased(
        order_id="o-3",
        channel="web",
        allocations=(Allocation(location_id="WH-A", sku="MUG", quantity=1),),
    )
    await inventory.publish(released)

    expired = await inventory.expire_due(at=utcnow() + timedelta(days=1))
    assert expired == 0
    assert (await inventory.client.get("/v1/reservations/o-3")).json()["status"] == "held"


async def test_a_confirmed_orders_hold_outlives_the_short_ttl(inventory: Inventory) -> None:
    """A confirmed order waits out its channel's release delay without losing its stock; an
    expired reservation announces that it expired."""
    await inventory.receive("MUG", "WH-A", 2)
    await inventory.publish(reserve("o-4", ("MUG", 1)))
    await inventory.publish(reserve("o-5", ("MUG", 1)))
    await inventory.publish(OrderConfirmed(order_id="o-4", lines=(Line(sku="MUG", quantity=1),)))

    assert await inventory.expire_due(at=utcnow() + timedelta(days=1)) == 1  # o-5 only
    assert (await inventory.client.get("/v1/reservations/o-4")).json()["status"] == "held"
    released = [e.payload for e in await inventory.staged() if e.type == "stock.released"]
    assert [(r["order_id"], r["expired"]) for r in released] == [("o-5", True)]
