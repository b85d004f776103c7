"""Service tests of the location tree: a location may be part of another (region > site >
zone), and availability rolls each tree up."""

from __future__ import annotations

from typing import Any

import pytest

from inventory_harness import Inventory

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def add_location(inventory: Inventory, location_id: str, parent_id: str | None) -> Any:
    body = {
        "location_id": location_id,
        "name": location_id,
        "kind": "warehouse",
        "country": "DE",
        "postal_code": "10115",
        "parent_id": parent_id,
    }
    return await inventory.client.post("/v1/locations", json=body)


async def test_availability_rolls_each_tree_up(inventory: Inventory) -> None:
    # WH-A and WH-B (the harness's) stand alone; EU > BERLIN > BER-1, and EU > MUNICH.
    for location_id, parent_id in (
        ("EU", None),
        ("BERLIN", "EU"),
        ("BER-1", "BERLIN"),
        ("MUNICH", "EU"),
    ):
        made = await add_location(inventory, location_id, parent_id)
        assert made.status_code == 201, made.text
        assert made.json()["parent_id"] == parent_id
    await inventory.receive("MUG", "BER-1", 5)
    await inventory.receive("MUG", "MUNICH", 3)
    await inventory.receive("MUG", "WH-A", 7)

    body = (await inventory.client.get("/v1/availability/MUG")).json()

    assert body["available_to_sell"] == 15
    assert [(r["location_id"], r["sellable"], r["available"]) for r in body["rollup"]] == [
        ("BERLIN", 5, 5),
        ("EU", 8, 8),
    ]
    (registered,) = [
        e.payload for e in await inventory.staged("inventory.location.v1", key="BER-1")
    ]
    assert registered["parent_id"] == "BERLIN"


async def test_a_flat_set_of_locations_answers_as_before(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 2)
    body = (await inventory.client.get("/v1/availability/MUG")).json()
    assert "rollup" not in body


async def test_a_parent_must_exist_first(inventory: Inventory) -> None:
    refused = await add_location(inventory, "ZONE-1", "NOWHERE")
    assert refused.status_code == 422
    assert "unknown parent location NOWHERE" in refused.json()["detail"]
    assert (await add_location(inventory, "ZONE-2", "a b")).status_code == 422
