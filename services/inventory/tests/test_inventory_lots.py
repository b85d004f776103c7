"""Service tests of lots: received with their expiry, issued first-expiry-first-out, carried by
transfers and adjustments, and traced to the orders they shipped to for a recall."""

from __future__ import annotations

from typing import Any

import pytest

from inventory_harness import Inventory, reserve
from keel_contracts.events import InspectedLine, ReturnInspected, ReturnReceived, ShipmentShipped
from keel_contracts.roles import Role
from keel_contracts.values import Line

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

OLGA = ("olga", Role.OPERATIONS)
WES = ("wes", Role.WAREHOUSE)


async def receive_lot(
    inventory: Inventory, location_id: str, quantity: int, lot: str, expires_on: str | None
) -> None:
    body = {
        "sku": "MUG",
        "location_id": location_id,
        "quantity": quantity,
        "unit_cost": "1.00",
        "reference": f"delivery of {lot}",
        "lot": lot,
        "expires_on": expires_on,
    }
    await inventory.act("/v1/receipts", WES, body, 201)


async def lots_on_hand(inventory: Inventory) -> dict[str, dict[str, int]]:
    """Units of every lot MUG has had, per location ("WH-A") and, for units not sellable, per
    state there ("WH-B in_transit")."""
    body = (await inventory.client.get("/v1/lots", params={"sku": "MUG"})).json()
    return {
        lot["lot"]: {
            " ".join(
                [at["location_id"]] + ([] if at["state"] == "sellable" else [at["state"]])
            ): at["quantity"]
            for at in lot["locations"]
        }
        for lot in body["items"]
    }


async def ship(inventory: Inventory, order_id: str, quantity: int) -> None:
    await inventory.publish(reserve(order_id, ("MUG", quantity)))
    await inventory.publish(
        ShipmentShipped(
            shipment_id=f"S-{order_id}",
            order_id=order_id,
            location_id="WH-A",
            lines=(Line(sku="MUG", quantity=quantity),),
            carrier="UPS",
            tracking_number="1Z",
        )
    )


async def test_issues_pick_the_first_to_expire_and_a_recall_finds_the_order(
    inventory: Inventory,
) -> None:
    await receive_lot(inventory, "WH-A", 5, "LATE", "2027-03-01")
    await receive_lot(inventory, "WH-A", 5, "SOON", "2027-01-15")
    await receive_lot(inventory, "WH-A", 5, "NEVER", None)
    await inventory.receive("MUG", "WH-A", 3)  # without a lot

    await ship(inventory, "O-1", 6)

    assert await lots_on_hand(inventory) == {
        "SOON": {},
        "LATE": {"WH-A": 4},
        "NEVER": {"WH-A": 5},
    }
    recall = (await inventory.client.get("/v1/lots/SOON", params={"sku": "MUG"})).json()
    assert (recall["expires_on"], recall["on_hand"], recall["age_days"]) == ("2027-01-15", 0, 0)
    assert [(r["location_id"], r["quantity"]) for r in recall["received"]] == [("WH-A", 5)]
    assert recall["orders"] == [
        {"location_id": "WH-A", "quantity": 5, "order_id": "O-1", "shipment_id": "S-O-1"}
    ]
    late = (await inventory.client.get("/v1/lots/LATE", params={"sku": "MUG"})).json()
    assert [(o["order_id"], o["quantity"]) for o in late["orders"]] == [("O-1", 1)]
    await inventory.assert_invariants_hold()


async def test_a_transfer_carries_its_lots(inventory: Inventory) -> None:
    await receive_lot(inventory, "WH-A", 4, "L1", "2027-02-01")
    body = {"sku": "MUG", "from_location_id": "WH-A", "to_location_id": "WH-B", "quantity": 4}
    transfer_id = (await inventory.act("/v1/transfers", OLGA, body, 201))["transfer_id"]
    await inventory.act(f"/v1/transfers/{transfer_id}/approve", OLGA)
    await inventory.act(f"/v1/transfers/{transfer_id}/ship", WES)
    assert await lots_on_hand(inventory) == {"L1": {"WH-B in_transit": 4}}

    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 3})
    assert await lots_on_hand(inventory) == {"L1": {"WH-B": 3, "WH-B in_transit": 1}}
    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 1})
    assert await lots_on_hand(inventory) == {"L1": {"WH-B": 4}}
    await inventory.assert_invariants_hold()


async def test_adjustments_name_their_lot_or_take_the_first_to_expire(
    inventory: Inventory,
) -> None:
    await receive_lot(inventory, "WH-A", 50, "L1", "2027-02-01")
    await receive_lot(inventory, "WH-A", 50, "L2", "2027-01-01")

    def loss(quantity: int, lot: str | None) -> dict[str, Any]:
        body = {"sku": "MUG", "location_id": "WH-A", "quantity": quantity, "reason_code": "loss"}
        return body if lot is None else {**body, "lot": lot}

    await inventory.act("/v1/adjustments", WES, loss(-1, "L1"), 201)
    await inventory.act("/v1/adjustments", WES, loss(-1, None), 201)
    refused = await inventory.act("/v1/adjustments", WES, loss(-2, "L9"), 422)
    assert "0 MUG of lot L9" in refused["detail"]
    found = {**loss(1, "L3"), "reason_code": "found"}
    assert (await inventory.act("/v1/adjustments", WES, found, 201))["status"] == "applied"

    assert await lots_on_hand(inventory) == {
        "L2": {"WH-A": 49},
        "L1": {"WH-A": 49},
        "L3": {"WH-A": 1},
    }
    await inventory.assert_invariants_hold()


async def test_bad_lots_are_refused(inventory: Inventory) -> None:
    await receive_lot(inventory, "WH-A", 1, "L1", "2027-02-01")
    body = {
        "sku": "MUG",
        "location_id": "WH-A",
        "quantity": 1,
        "unit_cost": "1.00",
        "reference": "r",
    }
    await inventory.act("/v1/receipts", WES, {**body, "expires_on": "2027-02-01"}, 422)
    other_day = {**body, "lot": "L1", "expires_on": "2027-05-01"}
    refused = await inventory.act("/v1/receipts", WES, other_day, 422)
    assert "expires on 2027-02-01" in refused["detail"]
    await inventory.act("/v1/receipts", WES, {**body, "lot": "L1"}, 201)  # no date: the lot's
    missing = await inventory.client.get("/v1/lots/L7", params={"sku": "MUG"})
    assert missing.status_code == 404
    assert await lots_on_hand(inventory) == {"L1": {"WH-A": 2}}


async def test_returned_units_keep_the_lot_they_shipped_from_through_inspection(
    inventory: Inventory,
) -> None:
    await receive_lot(inventory, "WH-A", 2, "SOON", "2027-01-15")
    await receive_lot(inventory, "WH-A", 5, "LATE", "2027-03-01")
    await ship(inventory, "O-1", 3)  # 2 of SOON, 1 of LATE
    lines = (Line(sku="MUG", quantity=3),)
    await inventory.publish(
        ReturnReceived(return_id="R-1", order_id="O-1", location_id="WH-B", lines=lines)
    )
    assert await lots_on_hand(inventory) == {
        "SOON": {"WH-B pending_inspection": 2},
        "LATE": {"WH-A": 4, "WH-B pending_inspection": 1},
    }
    graded = (
        InspectedLine(sku="MUG", quantity=2, grade="A", disposition="restock"),
        InspectedLine(sku="MUG", quantity=1, grade="C", disposition="damaged"),
    )
    await inventory.publish(
        ReturnInspected(return_id="R-1", order_id="O-1", location_id="WH-B", lines=graded)
    )

    assert await lots_on_hand(inventory) == {
        "SOON": {"WH-B": 2},
        "LATE": {"WH-A": 4, "WH-B damaged": 1},
    }
    await inventory.assert_invariants_hold()


async def test_lots_that_never_arrive_are_written_off_in_transit(inventory: Inventory) -> None:
    await receive_lot(inventory, "WH-A", 4, "L1", "2027-02-01")
    body = {"sku": "MUG", "from_location_id": "WH-A", "to_location_id": "WH-B", "quantity": 4}
    transfer_id = (await inventory.act("/v1/transfers", OLGA, body, 201))["transfer_id"]
    await inventory.act(f"/v1/transfers/{transfer_id}/approve", OLGA)
    await inventory.act(f"/v1/transfers/{transfer_id}/ship", WES)
    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 3})
    (exception,) = (await inventory.client.get("/v1/exceptions")).json()["items"]

    decision = {"decision": "release", "note": "lost on the road"}
    await inventory.act(f"/v1/exceptions/{exception['exception_id']}/resolve", OLGA, decision)

    assert await lots_on_hand(inventory) == {"L1": {"WH-B": 3}}
    await inventory.assert_invariants_hold()
