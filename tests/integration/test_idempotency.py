"""Idempotency-Key on PostgreSQL: racing retries of one receipt book it once."""

import asyncio

import httpx
import pytest

from tests.integration.support import StartService, new_sku, people, stock

pytestmark = pytest.mark.integration


def test_concurrent_retries_with_one_key_book_one_receipt(start_service: StartService) -> None:
    inventory = start_service("inventory")
    warehouse = inventory.as_person(people.WAREHOUSE)  # who posts receipts
    sku = new_sku()
    stock(inventory, sku, {"WH-EAST": 1})  # registers the item and the warehouse
    body = {
        "sku": sku,
        "location_id": "WH-EAST",
        "quantity": 5,
        "unit_cost": "1.00",
        "reference": "retry storm",
    }

    async def storm() -> list[httpx.Response]:
        async with warehouse.client() as client:
            return await asyncio.gather(
                *(
                    client.post("/v1/receipts", json=body, headers={"Idempotency-Key": f"r-{sku}"})
                    for _ in range(8)
                )
            )

    responses = asyncio.run(storm())
    assert {r.status_code for r in responses} <= {201, 409}
    created = [r.json() for r in responses if r.status_code == 201]
    assert created
    assert all(c["movement_id"] == created[0]["movement_id"] for c in created)
    replay = warehouse.post("/v1/receipts", body, headers={"Idempotency-Key": f"r-{sku}"})
    assert replay.json()["movement_id"] == created[0]["movement_id"]
    assert inventory.get(f"/v1/availability/{sku}").json()["available_to_sell"] == 6
