"""Service tests: shipment planning and warehouse events on a real (SQLite) database, with
released and cancelled orders fed through FastStream's in-memory broker."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from keel_contracts.events import Allocation, OrderCancelled, OrderReleased
from keel_fulfillment.domain import plan
from keel_kit.testing import ServiceUnderTest


class Stack(ServiceUnderTest):
    async def shipments(self, order_id: str) -> list[dict[str, Any]]:
        body: list[dict[str, Any]] = await self.get_json("/v1/shipments", order_id=order_id)
        return body

    async def event(self, location: str, **body: str) -> httpx.Response:
        return await self.client.post(f"/v1/warehouses/{location}/events", json=body)

    async def sent(self) -> list[str]:
        return [e.type for e in await self.staged("fulfillment.shipment.v1")]


def released(order_id: str, *allocations: tuple[str, str, int]) -> OrderReleased:
    return OrderReleased(
        order_id=order_id,
        channel="web",
        allocations=tuple(
            Allocation(location_id=loc, sku=sku, quantity=q) for loc, sku, q in allocations
        ),
    )


@pytest.mark.unit
def test_plan_makes_one_shipment_per_location() -> None:
    allocations = [
        Allocation(location_id="B", sku="X", quantity=1),
        Allocation(location_id="A", sku="X", quantity=2),
        Allocation(location_id="A", sku="Y", quantity=1),
    ]
    assert plan(allocations) == {"A": {"X": 2, "Y": 1}, "B": {"X": 1}}


@pytest.mark.service
@pytest.mark.asyncio
async def test_an_order_split_over_two_warehouses_gets_two_shipments(stack: Stack) -> None:
    await stack.publish(released("o-1", ("WH-A", "X", 2), ("WH-B", "X", 1)))
    await stack.publish(released("o-1", ("WH-A", "X", 2), ("WH-B", "X", 1)))  # a repeat

    shipments = await stack.shipments("o-1")
    assert [(s["location_id"], s["status"], s["lines"]) for s in shipments] == [
        ("WH-A", "created", [{"sku": "X", "quantity": 2}]),
        ("WH-B", "created", [{"sku": "X", "quantity": 1}]),
    ]
    assert await stack.sent() == ["shipment.created", "shipment.created"]


@pytest.mark.service
@pytest.mark.asyncio
async def test_warehouse_events_move_the_shipment_once(stack: Stack) -> None:
    await stack.publish(released("o-2", ("WH-A", "X", 1)))
    (shipment,) = await stack.shipments("o-2")
    sid = shipment["shipment_id"]

    assert (await stack.event("WH-A", event_id="e1", type="picked", shipment_id=sid)).json()[
        "status"
    ] == "picked"
    shipped = await stack.event(
        "WH-A", event_id="e2", type="shipped", shipment_id=sid, carrier="UPS", tracking_number="1Z"
    )
    again = await stack.event(
        "WH-A", event_id="e2", type="shipped", shipment_id=sid, carrier="UPS", tracking_number="1Z"
    )
    assert shipped.status_code == again.status_code == 202
    assert again.json()["duplicate"] is True
    await stack.event("WH-A", event_id="e3", type="delivered", shipment_id=sid)

    (shipment,) = await stack.shipments("o-2")
    assert (shipment["status"], shipment["tracking_number"]) == ("delivered", "1Z")
    assert await stack.sent() == ["shipment.created", "shipment.shipped", "shipment.delivered"]


@pytest.mark.service
@pytest.mark.asyncio
async def test_bad_warehouse_events_are_refused(stack: Stack) -> None:
    await stack.publish(released("o-3", ("WH-A", "X", 1)))
    (shipment,) = await stack.shipments("o-3")
    sid = shipment["shipment_id"]

    early = await stack.event("WH-A", event_id="d", type="delivered", shipment_id=sid)
    assert early.status_code == 409
    wrong_place = await stack.event("WH-B", event_id="w", type="picked", shipment_id=sid)
    assert wrong_place.status_code == 422
    no_tracking = await stack.event("WH-A", event_id="s", type="shipped", shipment_id=sid)
    assert no_tracking.status_code == 422
    unknown = await stack.event("WH-A", event_id="u", type="picked", shipment_id="nope")
    assert unknown.status_code == 404
    assert (await stack.shipments("o-3"))[0]["status"] == "created"


@pytest.mark.service
@pytest.mark.asyncio
async def test_warehouse_text_no_column_can_hold_is_a_422_naming_the_field(stack: Stack) -> None:
    await stack.publish(released("o-4", ("WH-A", "X", 1)))
    (shipment,) = await stack.shipments("o-4")
    sid = shipment["shipment_id"]

    long_id = await stack.event("WH-A", event_id="l", type="picked", shipment_id="s" * 37)
    tracking = {"carrier": "UPS", "tracking_number": "1Z\x1b[2J"}
    control = await stack.event("WH-A", event_id="c", type="shipped", shipment_id=sid, **tracking)

    assert long_id.status_code == control.status_code == 422
    assert [e["field"] for e in long_id.json()["errors"]] == ["shipment_id"]
    assert [e["field"] for e in control.json()["errors"]] == ["tracking_number"]
    assert (await stack.shipments("o-4"))[0]["status"] == "created"


@pytest.mark.service
@pytest.mark.asyncio
async def test_cancelled_order_cancels_its_open_shipments(stack: Stack) -> None:
    await stack.publish(released("o-4", ("WH-A", "X", 1), ("WH-B", "Y", 1)))
    shipments = await stack.shipments("o-4")
    await stack.event(
        "WH-A",
        event_id="x1",
        type="shipped",
        shipment_id=shipments[0]["shipment_id"],
        carrier="UPS",
        tracking_number="1Z",
    )
    await stack.publish(OrderCancelled(order_id="o-4", reason="customer asked"))

    assert [s["status"] for s in await stack.shipments("o-4")] == ["shipped", "cancelled"]
    assert (await stack.sent())[-1] == "shipment.cancelled"
