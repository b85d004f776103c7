"""Service tests of warehouses' systems signing their events: a signed warehouse moves and reads
only its own location's shipments; another location's are not found."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from test_fulfillment import Stack, released

from keel_contracts.events import LocationRegistered

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

EAST = "warehouse:WH-A"


@pytest_asyncio.fixture
async def stack(stack: Stack) -> Stack:
    """The shared stack, once it knows warehouses WH-A and WH-B: a warehouse's secret is
    issued for a registered location only."""
    for location in ("WH-A", "WH-B"):
        await stack.publish(
            LocationRegistered(
                location_id=location,
                name=location,
                kind="warehouse",
                country="US",
                postal_code="10001",
            )
        )
    return stack


async def secret(stack: Stack, location: str = "WH-A") -> str:
    response = await stack.client.post(f"/v1/warehouses/{location}/secrets")
    assert response.status_code == 201, response.text
    value: str = response.json()["secret"]
    return value


def event(shipment_id: str, event_id: str, type_: str = "picked") -> dict[str, Any]:
    return {"event_id": event_id, "type": type_, "shipment_id": shipment_id}


async def test_a_signed_warehouse_moves_its_own_shipments_only(stack: Stack) -> None:
    key = await secret(stack)
    await stack.publish(released("o-1", ("WH-A", "X", 1), ("WH-B", "X", 1)))
    own, other = await stack.shipments("o-1")
    assert (own["location_id"], other["location_id"]) == ("WH-A", "WH-B")

    moved = await stack.signed(
        "POST",
        "/v1/warehouses/WH-A/events",
        partner=EAST,
        secret=key,
        body=event(own["shipment_id"], "e1"),
    )
    assert moved.status_code == 202, moved.text

    # Another location's shipment, by its own path or by ours: not found, nothing moved.
    for path in ("/v1/warehouses/WH-B/events", "/v1/warehouses/WH-A/events"):
        refused = await stack.signed(
            "POST", path, partner=EAST, secret=key, body=event(other["shipment_id"], "e2")
        )
        assert refused.status_code == 404, (path, refused.text)
    assert [s["status"] for s in await stack.shipments("o-1")] == ["picked", "created"]

    seen = await stack.signed("GET", "/v1/shipments?order_id=o-1", partner=EAST, secret=key)
    assert [s["location_id"] for s in seen.json()] == ["WH-A"]


async def test_a_signed_warehouses_batch_finds_no_other_locations_shipment(stack: Stack) -> None:
    key = await secret(stack)
    await stack.publish(released("o-3", ("WH-A", "X", 1), ("WH-B", "X", 1)))
    own, other = await stack.shipments("o-3")

    async def batch(location: str, *events: dict[str, Any]) -> list[int]:
        response = await stack.signed(
            "POST",
            f"/v1/warehouses/{location}/events/batch",
            partner=EAST,
            secret=key,
            body={"events": list(events)},
        )
        assert response.status_code == 200, response.text
        return [result["status"] for result in response.json()["results"]]

    # Each event alone, as a single POST: its own moves, another location's is not found.
    mixed = await batch("WH-A", event(own["shipment_id"], "e1"), event(other["shipment_id"], "e2"))
    elsewhere = await batch("WH-B", event(other["shipment_id"], "e3"))

    assert (mixed, elsewhere) == ([202, 404], [404])
    assert [s["status"] for s in await stack.shipments("o-3")] == ["picked", "created"]


async def test_a_warehouse_secret_signs_for_its_location_only(stack: Stack) -> None:
    key_a = await secret(stack, "WH-A")
    await stack.publish(released("o-2", ("WH-B", "X", 1)))
    (shipment,) = await stack.shipments("o-2")

    posing = await stack.signed(
        "POST",
        "/v1/warehouses/WH-B/events",
        partner="warehouse:WH-B",
        secret=key_a,
        body=event(shipment["shipment_id"], "e3"),
    )

    assert posing.status_code == 401
    unknown = await stack.client.post("/v1/warehouses/WH-NOWHERE/secrets")
    assert unknown.status_code == 404
