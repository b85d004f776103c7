"""What order's /metrics tells an operator: requests per route template, orders accepted per
channel, the cycle time to shipment, and the exception queues, open and overdue."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from keel_contracts.events import ShipmentShipped, StockReservationFailed
from keel_contracts.values import Line
from order_harness import ORDER, Stack, authorized, reserved

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

REQUESTS = "keel_http_requests_total"


def one_mug_shipped(order_id: str, shipment_id: str) -> ShipmentShipped:
    return ShipmentShipped(
        shipment_id=shipment_id,
        order_id=order_id,
        location_id="WH-1",
        lines=(Line(sku="MUG-1", quantity=1),),
        carrier="UPS",
        tracking_number=f"1Z-{shipment_id}",
    )


async def test_requests_are_counted_by_route_template_and_status(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.client.get(f"/v1/orders/{order_id}", headers={"Authorization": ""})
    await stack.client.get("/no/such/page")
    await stack.client.request("BREW", "/v1/orders")

    assert await stack.metric(REQUESTS, method="POST", route="/v1/orders", status="202") == 1
    # Refused before routing, it still counts under its route, never its raw path.
    refused = await stack.metric(
        REQUESTS, method="GET", route="/v1/orders/{order_id}", status="401"
    )
    assert refused == 1
    assert await stack.metric(REQUESTS, method="GET", route="unmatched", status="404") == 1
    assert await stack.metric(REQUESTS, method="other", route="/v1/orders", status="405") == 1
    timed = "keel_http_request_duration_seconds_count"
    assert await stack.metric(timed, method="POST", route="/v1/orders") == 1
    assert await stack.metric("process_resident_memory_bytes") > 0


async def test_metrics_are_offered_as_openmetrics_which_carries_exemplars(stack: Stack) -> None:
    response = await stack.client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


async def test_an_order_is_counted_once_per_channel_when_accepted(stack: Stack) -> None:
    await stack.place()
    repeat = await stack.client.post(
        "/v1/orders", json=ORDER, headers={"Idempotency-Key": str(ORDER["external_id"])}
    )
    assert repeat.status_code == 202  # the same order again: not accepted twice
    unknown = copy.deepcopy(ORDER) | {"external_id": "W-2", "channel": "nowhere"}
    response = await stack.client.post(
        "/v1/orders", json=unknown, headers={"Idempotency-Key": "W-2"}
    )
    assert response.status_code == 422

    assert await stack.metric("keel_orders_accepted_total", channel="web") == 1
    assert await stack.metric("keel_orders_accepted_total", channel="nowhere") == 0


async def test_the_fill_rate_counts_each_order_by_its_first_stock_answer(stack: Stack) -> None:
    filled = await stack.place()
    await stack.publish(reserved(filled, ("WH-1", 2)))
    waiting = await stack.place(ORDER | {"external_id": "W-2"})
    short = (Line(sku="MUG-1", quantity=2),)
    await stack.publish(
        StockReservationFailed(
            order_id=waiting, short_lines=short, reason="insufficient stock", waiting=True
        )
    )
    await stack.publish(reserved(waiting, ("WH-1", 2)))  # the stock came: not a first answer

    assert await stack.metric("keel_reservation_units_requested_total") == 4
    assert await stack.metric("keel_reservation_units_filled_total") == 2


async def test_the_cycle_time_is_observed_when_the_last_unit_ships(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(authorized(order_id))
    await stack.publish(one_mug_shipped(order_id, "s-1"))
    assert await stack.metric("keel_order_cycle_seconds_count") == 0  # one mug of two left
    await stack.publish(one_mug_shipped(order_id, "s-2"))

    assert await stack.metric("keel_order_cycle_seconds_count") == 1
    assert await stack.metric("keel_order_cycle_seconds_sum") > 0


async def test_open_and_overdue_exceptions_are_sampled_per_type(stack: Stack) -> None:
    risky = copy.deepcopy(ORDER) | {"external_id": "R-1"}  # a new customer's big order abroad
    risky["lines"][0]["unit_price"] = "900.00"
    risky["shipping"]["address"]["country"] = "FR"
    await stack.place(risky)  # a fraud review, due in hours
    await stack.sample_metrics()

    assert await stack.metric("keel_exceptions_open", type="fraud_review") == 1
    assert await stack.metric("keel_exceptions_overdue", type="fraud_review") == 0
    assert await stack.metric("keel_exceptions_open", type="payment_hold") == 0
    assert await stack.metric("keel_outbox_oldest_age_seconds") > 0  # no relay runs here

    tomorrow = datetime.now(UTC) + timedelta(days=1)
    async with stack.context.unit_of_work() as uow:
        await stack.context.kpis.sample(uow.session, tomorrow)
    assert await stack.metric("keel_exceptions_overdue", type="fraud_review") == 1
