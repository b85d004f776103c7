"""Stock for a scenario, made through inventory's API as its users would: operations registers
the item and its locations, the warehouse receives the goods. Every test makes its stock here,
so they all make it the same way."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from tests.integration.support import people
from tests.integration.support.services import ServiceHttp

UNIT_COST = "8.00"


def new_sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:8].upper()}"


def register_item(inventory: ServiceHttp, sku: str, *, unit_cost: str = UNIT_COST) -> None:
    """Put a new SKU in inventory's item master (which the other services copy)."""
    body = {"sku": sku, "name": f"Item {sku}", "unit_cost": unit_cost, "currency": "USD"}
    response = inventory.as_person(people.OPERATIONS).post("/v1/items", body)
    assert response.status_code == 201, response.text


def register_location(inventory: ServiceHttp, location_id: str, *, new: bool = False) -> None:
    """Register a warehouse; one already there will do, unless the test asks for a `new` one."""
    body = {
        "location_id": location_id,
        "name": location_id,
        "kind": "warehouse",
        "country": "US",
        "postal_code": "10001",
    }
    response = inventory.as_person(people.OPERATIONS).post("/v1/locations", body)
    assert response.status_code in ((201,) if new else (201, 409)), response.text


def receive(
    inventory: ServiceHttp,
    sku: str,
    location_id: str,
    quantity: int,
    *,
    unit_cost: str = UNIT_COST,
    headers: dict[str, str] | None = None,
) -> str:
    """Receive `quantity` of a registered SKU at a registered location; the movement id."""
    body = {
        "sku": sku,
        "location_id": location_id,
        "quantity": quantity,
        "unit_cost": unit_cost,
        "reference": f"receipt {sku}",
    }
    response = inventory.as_person(people.WAREHOUSE).post("/v1/receipts", body, headers=headers)
    assert response.status_code == 201, response.text
    movement_id: str = response.json()["movement_id"]
    return movement_id


def stock(
    inventory: ServiceHttp,
    sku: str,
    at: Mapping[str, int],
    *,
    unit_cost: str = UNIT_COST,
    headers: dict[str, str] | None = None,
) -> list[str]:
    """Register a new SKU and each location of `at`, and receive `at`'s quantities there at
    `unit_cost`; the receipts' movement ids, in `at`'s order. A zero quantity registers the
    location and receives nothing."""
    register_item(inventory, sku, unit_cost=unit_cost)
    movements = []
    for location_id, quantity in at.items():
        register_location(inventory, location_id)
        if quantity:
            movements.append(
                receive(inventory, sku, location_id, quantity, unit_cost=unit_cost, headers=headers)
            )
    return movements
