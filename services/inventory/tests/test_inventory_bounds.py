"""Service tests: a receipt or item whose value finance could not post is a 422 at the door,
naming the field (keel_contracts.limits), and nothing is booked."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from inventory_harness import Inventory
from keel_contracts import parse_payload
from keel_contracts.events import StockReceived

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

RECEIPT = {"sku": "MUG", "location_id": "WH-A", "quantity": 1, "unit_cost": "1", "reference": "r"}


async def received(inventory: Inventory) -> list[StockReceived]:
    messages = [parse_payload(e) for e in await inventory.staged("inventory.stock.v1")]
    return [m for m in messages if isinstance(m, StockReceived)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # The probe's receipt: 10**6 units at 10**13 each is 10**19, which no journal line holds.
        ({"quantity": 1_000_000, "unit_cost": "10000000000000"}, "unit_cost"),
        ({"unit_cost": "100000000"}, "unit_cost"),
        ({"unit_cost": "1.00001"}, "unit_cost"),
        ({"quantity": 1_000_001}, "quantity"),
        ({"reference": "PO\x00-1"}, "reference"),
        ({"reference": "PO-1\ud800"}, "reference"),
    ],
)
async def test_a_receipt_finance_could_not_post_is_a_422_naming_the_field(
    inventory: Inventory, change: dict[str, Any], field: str
) -> None:
    # Sent as JSON escapes, as a client would send a lone surrogate.
    body = json.dumps({**RECEIPT, **change})
    response = await inventory.client.post(
        "/v1/receipts", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await received(inventory) == []


async def test_the_dearest_receipt_is_booked_and_announced_whole(inventory: Inventory) -> None:
    body = {**RECEIPT, "quantity": 1_000_000, "unit_cost": "99999999.9999"}

    response = await inventory.client.post("/v1/receipts", json=body)

    assert response.status_code == 201, response.text
    (event,) = await received(inventory)
    assert (event.quantity, event.unit_cost.amount) == (1_000_000, Decimal("99999999.9999"))


async def test_an_item_dearer_than_any_unit_cost_is_a_422(inventory: Inventory) -> None:
    item = {"sku": "GOLD", "name": "Gold", "unit_cost": "100000000", "currency": "USD"}

    response = await inventory.client.post("/v1/items", json=item)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["unit_cost"]
