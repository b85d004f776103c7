"""Service tests of transfers: requested and approved by operations, shipped and received by the
warehouse, the units out of the source's free stock, in transit at the destination, sellable
there as counted; nothing lost or counted twice, every step audited and checked."""

from __future__ import annotations

import pytest

from inventory_harness import Inventory, reserve
from keel_contracts.roles import Role

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

OLGA = ("olga", Role.OPERATIONS)
OTTO = ("otto", Role.OPERATIONS)
WES = ("wes", Role.WAREHOUSE)
MUG_A_TO_B = {"sku": "MUG", "from_location_id": "WH-A", "to_location_id": "WH-B"}


async def approved_transfer(inventory: Inventory, quantity: int) -> str:
    body = {
        "sku": "MUG",
        "from_location_id": "WH-A",
        "to_location_id": "WH-B",
        "quantity": quantity,
    }
    made = await inventory.act("/v1/transfers", OLGA, body, expect=201)
    assert (made["status"], made["requested_by"], made["in_transit"]) == ("requested", "olga", 0)
    transfer_id: str = made["transfer_id"]
    await inventory.act(f"/v1/transfers/{transfer_id}/approve", OTTO)
    return transfer_id


async def where(inventory: Inventory) -> dict[str, tuple[int, int, int]]:
    """(sellable, reserved, in transit) of MUG per location."""
    body = (await inventory.client.get("/v1/availability/MUG")).json()
    return {
        loc["location_id"]: (loc["sellable"], loc["reserved"], loc["in_transit"])
        for loc in body["locations"]
    }


async def test_a_transfer_moves_stock_through_transit_as_counted(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 10)
    transfer_id = await approved_transfer(inventory, 6)

    shipped = await inventory.act(f"/v1/transfers/{transfer_id}/ship", WES)
    assert (shipped["status"], shipped["in_transit"]) == ("shipped", 6)
    assert await where(inventory) == {"WH-A": (4, 0, 0), "WH-B": (0, 0, 6)}

    short = await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 5})
    assert (short["status"], short["received"], short["in_transit"]) == ("partially_received", 5, 1)
    assert await where(inventory) == {"WH-A": (4, 0, 0), "WH-B": (5, 0, 1)}
    await inventory.assert_invariants_hold()

    # The last unit turns up; no more than was shipped can be counted in.
    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 2}, 422)
    done = await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 1})
    assert (done["status"], done["in_transit"]) == ("received", 0)
    assert await where(inventory) == {"WH-A": (4, 0, 0), "WH-B": (6, 0, 0)}
    totals = (await inventory.client.get("/v1/balances/MUG")).json()
    assert totals["valued_quantity"] == 10  # in transit or not, every unit stays valued
    await inventory.assert_invariants_hold()

    trail = (await inventory.client.get("/v1/audit", params={"object_id": transfer_id})).json()
    assert [(e["action"], e["actor"]) for e in reversed(trail["items"])] == [
        ("transfer.requested", "olga"),
        ("transfer.approved", "otto"),
        ("transfer.shipped", "wes"),
        ("transfer.received", "wes"),
        ("transfer.received", "wes"),
    ]


async def test_reserved_stock_is_not_shipped_away(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 5)
    await inventory.publish(reserve("O-1", ("MUG", 3)))
    transfer_id = await approved_transfer(inventory, 3)

    refused = await inventory.act(f"/v1/transfers/{transfer_id}/ship", WES, expect=409)
    assert "2 MUG free" in refused["detail"]
    assert await where(inventory) == {"WH-A": (5, 3, 0)}


async def test_units_arriving_serve_the_backorder_queue(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 4)
    transfer_id = await approved_transfer(inventory, 4)
    await inventory.act(f"/v1/transfers/{transfer_id}/ship", WES)
    await inventory.publish(reserve("O-1", ("MUG", 2), backorder=True))

    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 4})

    view = (await inventory.client.get("/v1/reservations/O-1")).json()
    assert (view["status"], view["allocations"][0]["location_id"]) == ("held", "WH-B")


async def test_each_step_in_its_turn_by_its_role(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 4)
    body = {**MUG_A_TO_B, "quantity": 1}
    made = await inventory.act("/v1/transfers", OLGA, body, expect=201)
    transfer_id = made["transfer_id"]

    await inventory.act(f"/v1/transfers/{transfer_id}/ship", WES, expect=409)  # not approved
    await inventory.act(f"/v1/transfers/{transfer_id}/approve", WES, expect=403)
    await inventory.act("/v1/transfers", WES, body, expect=403)
    await inventory.act(f"/v1/transfers/{transfer_id}/approve", OTTO)
    await inventory.act(f"/v1/transfers/{transfer_id}/approve", OTTO, expect=409)
    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 1}, 409)
    await inventory.act("/v1/transfers/nope/approve", OTTO, expect=404)

    same = {**body, "to_location_id": "WH-A"}
    assert "another location" in (await inventory.act("/v1/transfers", OLGA, same, 422))["detail"]
    nowhere = {**body, "to_location_id": "WH-Z"}
    assert (
        "unknown location" in (await inventory.act("/v1/transfers", OLGA, nowhere, 422))["detail"]
    )

    listed = (await inventory.client.get("/v1/transfers", params={"status": "approved"})).json()
    assert [t["transfer_id"] for t in listed["items"]] == [transfer_id]
    assert (
        await inventory.client.get("/v1/transfers", params={"status": "lost"})
    ).status_code == 422


async def test_a_short_receipt_raises_a_discrepancy_the_rest_closes(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 6)
    transfer_id = await approved_transfer(inventory, 6)
    await inventory.act(f"/v1/transfers/{transfer_id}/ship", WES)

    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 4})
    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 1})
    (exception,) = (await inventory.client.get("/v1/exceptions")).json()["items"]
    assert (exception["type"], exception["reference"]) == ("transfer_discrepancy", transfer_id)
    assert "4 received at WH-B, 2 missing" in exception["reason"]

    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 1})
    assert (await inventory.client.get("/v1/exceptions")).json()["items"] == []
    closed = (await inventory.client.get("/v1/exceptions", params={"status": "resolved"})).json()
    assert [e["resolution"] for e in closed["items"]] == ["closed"]


async def test_accepting_a_shortfall_writes_the_missing_units_off(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 6)
    transfer_id = await approved_transfer(inventory, 6)
    await inventory.act(f"/v1/transfers/{transfer_id}/ship", WES)
    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 5})
    (exception,) = (await inventory.client.get("/v1/exceptions")).json()["items"]

    decision = {"decision": "release", "note": "fell off the truck"}
    await inventory.act(f"/v1/exceptions/{exception['exception_id']}/resolve", OLGA, decision)

    done = (await inventory.client.get(f"/v1/transfers/{transfer_id}")).json()
    assert (done["status"], done["received"], done["written_off"], done["in_transit"]) == (
        "closed_short",
        5,
        1,
        0,
    )
    assert await where(inventory) == {"WH-A": (0, 0, 0), "WH-B": (5, 0, 0)}
    (loss,) = [
        e for e in await inventory.staged("inventory.stock.v1") if e.type == "stock.adjusted"
    ]
    assert (loss.payload["quantity"], loss.payload["reason_code"]) == (-1, "transit_loss")
    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 1}, 409)
    await inventory.assert_invariants_hold()


async def test_rejecting_a_shortfall_keeps_waiting_for_the_units(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 2)
    transfer_id = await approved_transfer(inventory, 2)
    await inventory.act(f"/v1/transfers/{transfer_id}/ship", WES)
    await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 1})
    (exception,) = (await inventory.client.get("/v1/exceptions")).json()["items"]

    decision = {"decision": "reject", "note": "the carrier has it"}
    await inventory.act(f"/v1/exceptions/{exception['exception_id']}/resolve", OLGA, decision)

    assert await where(inventory) == {"WH-A": (0, 0, 0), "WH-B": (1, 0, 1)}
    trail = await inventory.get_json("/v1/audit", object_id=exception["exception_id"])
    assert [(e["action"], e["actor"], e["reason"]) for e in trail["items"]] == [
        ("exception.resolved", "olga", "the carrier has it")
    ]
    late = await inventory.act(f"/v1/transfers/{transfer_id}/receive", WES, {"quantity": 1})
    assert late["status"] == "received"
    await inventory.assert_invariants_hold()
