"""Service tests of a location's shipment queue: pick order, statuses, paging, the next events
each shipment may take, and who may read it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from fastapi import FastAPI

from keel_contracts.events import Allocation, OrderReleased
from keel_contracts.roles import Role
from keel_kit.testing import ServiceUnderTest, running

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


class Stack(ServiceUnderTest):
    async def queue(self, location: str, **params: Any) -> dict[str, Any]:
        body: dict[str, Any] = await self.get_json(f"/v1/warehouses/{location}/shipments", **params)
        return body

    async def release(self, order_id: str, location: str = "WH-A") -> str:
        await self.publish(
            OrderReleased(
                order_id=order_id,
                channel="web",
                allocations=(Allocation(location_id=location, sku="MUG-1", quantity=1),),
            )
        )
        (shipment,) = await self.get_json("/v1/shipments", order_id=order_id)
        shipment_id: str = shipment["shipment_id"]
        return shipment_id

    async def report(self, shipment_id: str, kind: str, location: str = "WH-A") -> None:
        body: dict[str, str] = {
            "event_id": f"{shipment_id}-{kind}",
            "type": kind,
            "shipment_id": shipment_id,
        }
        if kind == "shipped":
            body |= {"carrier": "UPS", "tracking_number": "1Z"}
        response = await self.client.post(f"/v1/warehouses/{location}/events", json=body)
        assert response.status_code == 202, response.text


@pytest_asyncio.fixture
async def stack(app: FastAPI) -> AsyncIterator[Stack]:
    """This module's own harness (the queue's steps), on the shared `app`."""
    async with running(app, Stack) as stack:
        yield stack


def ids(page: dict[str, Any]) -> list[str]:
    return [item["shipment_id"] for item in page["items"]]


async def test_the_queue_lists_what_is_left_to_ship_oldest_first(stack: Stack) -> None:
    first = await stack.release("o-1")
    second = await stack.release("o-2")
    shipped = await stack.release("o-3")
    await stack.release("o-4", location="WH-B")
    await stack.report(second, "picked")
    await stack.report(shipped, "shipped")

    page = await stack.queue("WH-A")
    assert ids(page) == [first, second]
    assert [i["next_events"] for i in page["items"]] == [
        ["picked", "packed", "shipped"],
        ["packed", "shipped"],
    ]
    assert page["next_cursor"] is None
    assert ids(await stack.queue("WH-A", status="shipped")) == [shipped]
    assert (await stack.queue("WH-A", status="shipped"))["items"][0]["next_events"] == ["delivered"]
    assert ids(await stack.queue("WH-C")) == []


async def test_the_queue_pages_with_its_cursor(stack: Stack) -> None:
    released = [await stack.release(f"o-{n}") for n in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        page = await stack.queue("WH-A", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == released


@pytest.mark.parametrize("params", [{"status": "lost"}, {"limit": 0}, {"cursor": "%%%"}])
async def test_a_bad_filter_is_a_422(stack: Stack, params: dict[str, Any]) -> None:
    response = await stack.client.get("/v1/warehouses/WH-A/shipments", params=params)
    assert response.status_code == 422
    assert next(iter(params)) in response.text


async def test_warehouse_and_operations_read_it_and_finance_may_not(stack: Stack) -> None:
    path = "/v1/warehouses/WH-A/shipments"
    for role, status in ((Role.WAREHOUSE, 200), (Role.OPERATIONS, 200), (Role.FINANCE, 403)):
        response = await stack.client.get(path, headers=stack.as_person("pat", role))
        assert response.status_code == status, role
