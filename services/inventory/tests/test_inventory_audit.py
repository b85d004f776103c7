"""Service tests of inventory's audit trail: a receipt, an item and a location posted by a person
are each recorded once, with who acted, what was booked and the request; a replayed or refused
request records nothing; and the chain they form holds."""

from __future__ import annotations

from typing import Any

import pytest

from inventory_harness import Inventory
from keel_contracts.roles import Role
from keel_kit import audit
from keel_kit.testing import TEST_ADMIN

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

WALT = ("walt", Role.WAREHOUSE)
RECEIPT = {
    "sku": "MUG",
    "location_id": "WH-A",
    "quantity": 12,
    "unit_cost": "2.75",
    "reference": "delivery note 881",
}


async def entries(inventory: Inventory, object_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await inventory.get_json("/v1/audit", object_id=object_id))[
        "items"
    ]
    return items


async def assert_chain_holds(inventory: Inventory) -> None:
    page = await inventory.get_json("/v1/audit/chain")
    assert audit.broken_link(page["entries"], page["head"]) is None


async def test_a_receipt_is_recorded_under_the_stock_it_adds_to(inventory: Inventory) -> None:
    response = await inventory.client.post(
        "/v1/receipts", json=RECEIPT, headers=inventory.as_person(*WALT)
    )
    assert response.status_code == 201, response.text

    (entry,) = await entries(inventory, "MUG@WH-A")
    assert (entry["actor"], entry["role"], entry["action"]) == (
        "walt",
        "warehouse",
        "stock.received",
    )
    assert (entry["object_type"], entry["owner_role"]) == ("stock", "warehouse")
    assert entry["before"] is None
    assert entry["after"] == {
        "movement_id": response.json()["movement_id"],
        "quantity": 12,
        "unit_cost": "2.75",
        "reference": "delivery note 881",
    }
    assert entry["request_id"] is not None
    await assert_chain_holds(inventory)


async def test_a_replayed_receipt_is_recorded_once(inventory: Inventory) -> None:
    key = {"Idempotency-Key": "receipt-1"}
    first = await inventory.client.post("/v1/receipts", json=RECEIPT, headers=key)
    replay = await inventory.client.post("/v1/receipts", json=RECEIPT, headers=key)

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert len(await entries(inventory, "MUG@WH-A")) == 1
    await assert_chain_holds(inventory)


async def test_a_refused_receipt_records_nothing(inventory: Inventory) -> None:
    response = await inventory.client.post("/v1/receipts", json={**RECEIPT, "sku": "CUP"})

    assert response.status_code == 422, response.text
    assert await entries(inventory, "CUP@WH-A") == []
    await assert_chain_holds(inventory)


async def test_registering_an_item_is_recorded(inventory: Inventory) -> None:
    # The harness registered MUG as the test's admin.
    (entry,) = await entries(inventory, "MUG")

    assert (entry["actor"], entry["role"], entry["action"]) == (
        TEST_ADMIN,
        "admin",
        "item.registered",
    )
    assert (entry["object_type"], entry["owner_role"]) == ("item", "operations")
    assert entry["before"] is None
    assert entry["after"] == {"sku": "MUG", "name": "Mug", "unit_cost": "1.00", "currency": "USD"}
    assert entry["request_id"] is not None
    await assert_chain_holds(inventory)


async def test_registering_a_location_is_recorded_for_operations_to_read(
    inventory: Inventory,
) -> None:
    ola = inventory.as_person("ola", Role.OPERATIONS)
    location = {
        "location_id": "WH-C",
        "name": "Central",
        "kind": "3pl",
        "country": "DE",
        "postal_code": "10115",
    }
    assert (
        await inventory.client.post("/v1/locations", json=location, headers=ola)
    ).status_code == 201

    found = await inventory.client.get("/v1/audit", params={"object_id": "WH-C"}, headers=ola)
    (entry,) = found.json()["items"]
    assert (entry["actor"], entry["role"], entry["action"]) == (
        "ola",
        "operations",
        "location.registered",
    )
    assert (entry["object_type"], entry["owner_role"]) == ("location", "operations")
    assert (entry["before"], entry["after"]) == (None, {**location, "parent_id": None})
    assert entry["request_id"] is not None
    await assert_chain_holds(inventory)
