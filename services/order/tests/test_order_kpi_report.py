"""Service tests of the order service's KPIs over time: each series from the orders, their
history and holds, bucketed by hour or day, and the window's bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, update

from keel_contracts.events import ShipmentCreated, ShipmentShipped
from keel_contracts.roles import Role
from keel_contracts.values import Line
from keel_order.models import Order
from order_harness import ORDER, Stack, authorized, reserved

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def kpis(stack: Stack, **params: Any) -> dict[str, list[Any]]:
    response = await stack.client.get("/v1/kpis", params=params)
    assert response.status_code == 200, response.text
    return {s["name"]: s["points"] for s in response.json()["series"]}


def last(points: list[dict[str, Any]]) -> Any:
    return points[-1]["value"]


async def shipped(stack: Stack, external_id: str, hours_ago: int) -> str:
    """An order placed `hours_ago` hours ago and shipped whole now."""
    order_id = await stack.place({**ORDER, "external_id": external_id})
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(authorized(order_id))
    lines = (Line(sku="MUG-1", quantity=2),)
    await stack.publish(
        ShipmentCreated(
            shipment_id=f"s-{external_id}", order_id=order_id, location_id="WH-1", lines=lines
        )
    )
    await stack.publish(
        ShipmentShipped(
            shipment_id=f"s-{external_id}",
            order_id=order_id,
            location_id="WH-1",
            lines=lines,
            carrier="UPS",
            tracking_number="1Z",
        )
    )
    placed = datetime.now(UTC) - timedelta(hours=hours_ago)
    async with stack.db.transaction() as session:
        await session.exec(
            update(Order).where(col(Order.order_id) == order_id).values(created_at=placed)
        )
    return order_id


async def test_each_series_counts_what_the_orders_record(stack: Stack) -> None:
    await shipped(stack, "A-1", hours_ago=0)
    await shipped(stack, "A-2", hours_ago=0)
    await stack.place({**ORDER, "external_id": "A-3"})  # still validating: nothing shipped

    series = await kpis(stack, bucket="hour")
    assert last(series["orders_placed"]) == "3"
    assert last(series["fill_rate"]) == "66.7"  # 4 of 6 units shipped
    assert last(series["backorder_rate"]) == "0.0"
    assert last(series["exceptions_opened"]) == "0"
    assert last(series["order_cycle_hours"]) is not None
    assert len(series["orders_placed"]) == 49  # 48 hours back and this one


async def test_cycle_time_is_placing_to_the_last_unit_shipped(stack: Stack) -> None:
    await shipped(stack, "C-1", hours_ago=10)
    await shipped(stack, "C-2", hours_ago=20)
    series = await kpis(stack, bucket="day")
    assert float(last(series["order_cycle_hours"])) == pytest.approx(15, abs=0.1)
    placed = [p for p in series["orders_placed"] if p["value"] != "0"]
    assert sum(int(p["value"]) for p in placed) == 2


async def test_a_bucket_with_nothing_to_measure_is_null_not_zero(stack: Stack) -> None:
    series = await kpis(stack, bucket="day")
    assert series["order_cycle_hours"][0]["value"] is None
    assert series["orders_placed"][0]["value"] == "0"


@pytest.mark.parametrize(
    "params",
    [
        {"bucket": "week"},
        {"since": "2999-01-01T00:00:00Z"},
        {"since": "2000-01-01", "bucket": "hour"},
    ],
)
async def test_a_window_out_of_bounds_is_a_422(stack: Stack, params: dict[str, str]) -> None:
    response = await stack.client.get("/v1/kpis", params=params)
    assert response.status_code == 422
    assert next(iter(params)) in response.text or "since" in response.text


async def test_leadership_reads_the_kpis_and_the_warehouse_may_not(stack: Stack) -> None:
    for role, status in ((Role.LEADERSHIP, 200), (Role.OPERATIONS, 200), (Role.WAREHOUSE, 403)):
        response = await stack.client.get("/v1/kpis", headers=stack.as_person("lee", role))
        assert response.status_code == status, role
