"""Service tests of stock totals: `GET /v1/balances` lists every SKU's units per state over all
its locations with its valued quantity (sellable, reserved units included, quarantine and
damaged), paged by SKU; `GET /v1/balances/{sku}` shows the same totals beside its balances."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from inventory_harness import Inventory, reserve
from keel_contracts.events import (
    InspectedLine,
    PurchaseOrderConfirmed,
    ReturnInspected,
    ReturnReceived,
)
from keel_contracts.values import Line

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

MUG_TOTALS = {
    "damaged": 1,
    "pending_inspection": 0,  # held stock once: its balance stays, at zero
    "quarantine": 1,
    "reserved": 4,
    "sellable": 16,
    "written_off": 1,
}


async def page(inventory: Inventory, **params: Any) -> dict[str, Any]:
    response = await inventory.client.get("/v1/balances", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def stock_in_every_state(inventory: Inventory) -> None:
    """MUG: 15 received at two locations, 4 of them reserved, and a return of 4 graded one per
    disposition; PLATE: 3 received, 2 back pending inspection, 5 on order; BOWL: nothing."""
    await inventory.receive("MUG", "WH-A", 10)
    await inventory.receive("MUG", "WH-B", 5)
    await inventory.receive("PLATE", "WH-A", 3)
    item = {"sku": "BOWL", "name": "Bowl", "unit_cost": "2.00", "currency": "USD"}
    assert (await inventory.client.post("/v1/items", json=item)).status_code == 201
    await inventory.apply(
        reserve("ORD-1", ("MUG", 4)),
        ReturnReceived(
            return_id="RET-1",
            order_id="ORD-0",
            location_id="WH-A",
            lines=(Line(sku="MUG", quantity=4),),
        ),
        ReturnReceived(
            return_id="RET-2",
            order_id="ORD-9",
            location_id="WH-A",
            lines=(Line(sku="PLATE", quantity=2),),
        ),
        PurchaseOrderConfirmed(
            purchase_order_id="PO-1",
            supplier_id="SUP-1",
            location_id="WH-B",
            lines=(Line(sku="PLATE", quantity=5),),
            expected_at=datetime(2030, 5, 4, tzinfo=UTC),
        ),
        max_attempts=3,
    )
    await inventory.apply(
        ReturnInspected(
            return_id="RET-1",
            order_id="ORD-0",
            location_id="WH-A",
            lines=tuple(
                InspectedLine(sku="MUG", quantity=1, grade=grade, disposition=disposition)
                for grade, disposition in (
                    ("A", "restock"),
                    ("B", "refurbish"),
                    ("C", "damaged"),
                    ("D", "write_off"),
                )
            ),
        ),
        max_attempts=3,
    )


async def test_every_sku_is_listed_with_its_totals_and_valued_quantity(
    inventory: Inventory,
) -> None:
    await stock_in_every_state(inventory)

    assert await page(inventory) == {
        "items": [
            {"sku": "BOWL", "totals": {}, "valued_quantity": 0},
            # Reserved units are among the sellable ones; the written-off one has left.
            {"sku": "MUG", "totals": MUG_TOTALS, "valued_quantity": 18},
            {
                "sku": "PLATE",
                "totals": {"on_order": 5, "pending_inspection": 2, "reserved": 0, "sellable": 3},
                "valued_quantity": 3,  # neither ungraded returns nor stock on order are valued
            },
        ],
        "next_cursor": None,
    }


async def test_a_skus_balances_show_its_totals_over_all_locations(inventory: Inventory) -> None:
    await stock_in_every_state(inventory)

    response = await inventory.client.get("/v1/balances/MUG")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["totals"], body["valued_quantity"]) == (MUG_TOTALS, 18)
    assert {(b["location_id"], b["state"]): b["quantity"] for b in body["balances"]} == {
        ("WH-A", "damaged"): 1,
        ("WH-A", "pending_inspection"): 0,
        ("WH-A", "quarantine"): 1,
        ("WH-A", "reserved"): 4,
        ("WH-A", "sellable"): 11,
        ("WH-B", "reserved"): 0,
        ("WH-B", "sellable"): 5,
    }


async def test_balances_are_paged_by_sku(inventory: Inventory) -> None:
    await inventory.receive("PLATE", "WH-A", 3)

    first = await page(inventory, limit=1)
    second = await page(inventory, limit=1, cursor=first["next_cursor"])
    last = await page(inventory, limit=1, cursor=second["next_cursor"])

    assert ([i["sku"] for i in first["items"]], first["next_cursor"]) == (["MUG"], "MUG")
    assert second == {
        "items": [{"sku": "PLATE", "totals": {"reserved": 0, "sellable": 3}, "valued_quantity": 3}],
        "next_cursor": "PLATE",
    }
    assert last == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("limit", [0, 1001])
async def test_a_balances_page_outside_the_limits_is_refused(
    inventory: Inventory, limit: int
) -> None:
    response = await inventory.client.get("/v1/balances", params={"limit": limit})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"
