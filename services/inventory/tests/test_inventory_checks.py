"""`GET /v1/checks`: inventory's invariants hold through every stock path and catch breaks."""

from __future__ import annotations

import pytest
from test_inventory_shipments import ship, shipped

from inventory_harness import Inventory, reserve
from keel_contracts.commands import ReleaseStock
from keel_inventory import repository, reservations
from keel_inventory.models import StockBalance
from keel_kit.checks import OUTBOX_DRAINED
from keel_kit.tables import utcnow
from keel_kit.testing import check_findings

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def findings(inventory: Inventory) -> dict[str, list[str]]:
    return check_findings((await inventory.client.get("/v1/checks")).json())


async def test_checks_hold_through_reserve_partial_shipment_and_release(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 2)
    await inventory.receive("MUG", "WH-B", 2)
    await inventory.publish(reserve("o-1", ("MUG", 3)))  # split over both warehouses
    await inventory.publish(reserve("o-2", ("MUG", 1)))
    await ship(inventory, shipped("o-1", "WH-A", ("MUG", 2)))  # WH-B still to ship
    await inventory.publish(ReleaseStock(order_id="o-2", reason="cancelled"))

    body = (await inventory.client.get("/v1/checks")).json()

    assert body["service"] == "inventory"
    assert await findings(inventory) == {}
    names = [i["name"] for i in body["invariants"]]
    assert names[0] == OUTBOX_DRAINED.name
    assert "no location has more reserved than sellable (no oversold unit)" in names


async def test_checks_name_stray_reserved_units_oversold_stock_and_a_balance_off_its_ledger(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 1)
    async with inventory.db.transaction() as session:
        # Bypass the reservation rules to build the states the checks must catch.
        stray = reservations._movement("MUG", "WH-A", 3, "reservation", "bogus", utcnow())
        await repository.add_movements(session, [stray])
        session.add(StockBalance(sku="PLATE", location_id="WH-B", state="sellable", quantity=-4))

    body = (await inventory.client.get("/v1/checks")).json()
    found = await findings(inventory)

    assert body["ok"] is False
    assert found["no location has more reserved than sellable (no oversold unit)"] == [
        "MUG at WH-A: 3 reserved of 1 sellable"
    ]
    assert found["every balance equals the sum of its ledger movements"] == [
        "PLATE at WH-B sellable: the ledger sums to 0, the balance says -4"
    ]
    assert found["no balance is negative"] == ["PLATE at WH-B has -4 sellable"]
    (stray_finding,) = next(v for k, v in found.items() if k.startswith("reserved stock"))
    assert stray_finding == "3 reserved MUG at WH-A name no reservation (bogus)"


async def test_a_released_reservation_still_holding_stock_is_caught(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 5)
    await inventory.publish(reserve("o-1", ("MUG", 2)))
    await inventory.publish(ReleaseStock(order_id="o-1", reason="cancelled"))
    (answer,) = [a for a in await inventory.answers() if a.type == "stock.reserved"]
    held_again = reservations._movement(
        "MUG", "WH-A", 2, "reservation", answer.payload["reservation_id"], utcnow()
    )
    async with inventory.db.transaction() as session:
        await repository.add_movements(session, [held_again])

    (finding,) = next(v for k, v in (await findings(inventory)).items() if "reserved" in k)

    assert finding.startswith("released reservation")
    assert finding.endswith("still holds 2 MUG at WH-A")
