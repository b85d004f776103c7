"""The validation half of order to cash across order, inventory and finance, on the real broker
and PostgreSQL: reservation without oversell, payment, backorders, cancellation."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from tests.integration.support import (
    ServiceProcess,
    Stack,
    StartService,
    eventually,
    new_sku,
    order_body,
    people,
)

pytestmark = pytest.mark.integration


async def _place_concurrently(order: ServiceProcess, bodies: list[dict[str, Any]]) -> list[str]:
    async with order.as_person(people.CUSTOMER_SERVICE).client(timeout=30) as client:
        limit = asyncio.Semaphore(30)

        async def place(body: dict[str, Any]) -> str:
            async with limit:
                response = await client.post(
                    "/v1/orders", json=body, headers={"Idempotency-Key": body["external_id"]}
                )
            assert response.status_code == 202, response.text
            order_id: str = response.json()["order_id"]
            return order_id

        return await asyncio.gather(*(place(body) for body in bodies))


def test_300_concurrent_orders_for_100_units_reserve_exactly_100(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 60, "WH-WEST": 40})
    assert stack.order.post(
        "/v1/channels",
        {
            "channel_id": "marketplace-c",
            "name": "Marketplace C",
            "market_country": "US",
            "backorder_policy": "reject",
        },
    ).status_code in (201, 409)
    channels = ["web", "marketplace-a", "marketplace-c"]
    bodies = [order_body(sku, channel=channels[i % 3]) for i in range(300)]

    order_ids = asyncio.run(_place_concurrently(stack.order, bodies))
    statuses = eventually(
        lambda: stack.settled(order_ids), timeout=180, what="every order to leave validating"
    )

    counts = Counter(statuses.values())
    assert counts["released"] == 100, counts
    assert counts["released"] + counts["backordered"] + counts["rejected"] == 300, counts
    by_channel = Counter(
        (body["channel"], statuses[oid]) for body, oid in zip(bodies, order_ids, strict=True)
    )
    assert by_channel[("marketplace-c", "backordered")] == 0
    assert by_channel[("web", "rejected")] == by_channel[("marketplace-a", "rejected")] == 0
    availability = stack.availability(sku)
    assert sum(loc["reserved"] for loc in availability["locations"]) == 100
    assert availability["available_to_sell"] == 0
    invariants = stack.inventory.get("/v1/invariants").json()
    assert invariants["ledger_matches_balances"] is True
    assert (invariants["oversold_locations"], invariants["oversold_units"]) == (0, 0)


def test_backorders_are_confirmed_oldest_first_when_stock_arrives(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 1})
    first = stack.place(order_body(sku))
    stack.wait_status(first, "released")
    waiting = []
    for _ in range(4):
        order_id = stack.place(order_body(sku))
        eventually(
            lambda oid=order_id: stack.status(oid) == "backordered",  # type: ignore[misc]
            what="a backorder",
        )
        waiting.append(order_id)

    stack.receive(sku, "WH-EAST", 2)
    eventually(
        lambda: [stack.status(o) for o in waiting[:2]] == ["released", "released"],
        what="the two oldest backorders released",
    )
    assert [stack.status(o) for o in waiting[2:]] == ["backordered", "backordered"]


def test_declined_card_rejects_the_order_and_gives_the_stock_back(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 5})
    order_id = stack.place(order_body(sku, quantity=2, token="tok_declined"))

    stack.wait_status(order_id, "rejected")
    eventually(
        lambda: stack.availability(sku)["available_to_sell"] == 5, what="the reservation released"
    )
    payment = stack.payment(order_id)
    assert payment["status"] == "declined"


def test_cancel_after_confirmation_releases_stock_and_voids_payment(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 5})
    order_id = stack.place(order_body(sku, quantity=3))
    stack.wait_status(order_id, "released")
    assert stack.availability(sku)["available_to_sell"] == 2

    assert stack.cancel(order_id)["status"] == "cancelled"
    eventually(
        lambda: stack.availability(sku)["available_to_sell"] == 5, what="the stock given back"
    )
    eventually(
        lambda: stack.payment(order_id)["status"] == "voided",
        what="the authorization voided",
    )


def test_same_idempotency_key_and_body_returns_the_same_order(start_service: StartService) -> None:
    stack = Stack(start_service)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 5})
    body = order_body(sku)
    first = stack.place(body)
    assert stack.place(body) == first
    other = stack.order.as_person(people.CUSTOMER_SERVICE).post(
        "/v1/orders",
        {**body, "lines": [{"sku": sku, "quantity": 2, "unit_price": "20.00"}]},
        headers={"Idempotency-Key": body["external_id"]},
    )
    assert other.status_code == 422


def test_an_order_no_warehouse_can_fill_alone_ships_split_and_books_balanced(
    start_service: StartService,
) -> None:
    stack = Stack(start_service, fulfillment=True)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 2, "WH-WEST": 2})
    order_id = stack.place(order_body(sku, quantity=3))
    stack.wait_status(order_id, "released")

    planned = stack.planned(order_id, count=2)
    assert sorted(sum(line["quantity"] for line in s["lines"]) for s in planned) == [1, 2]
    for shipment in planned:
        stack.walk(shipment)
        if shipment is planned[0]:
            stack.wait_status(order_id, "partially_shipped")
    stack.wait_status(order_id, "delivered")

    # Delivered is the order service's view; inventory applies the shipments from its own
    # consumer, which may still be one event behind.
    def after_both_shipments() -> dict[str, Any] | None:
        availability = stack.availability(sku)
        sellable = sum(loc["sellable"] for loc in availability["locations"])
        return availability if sellable == 1 else None

    availability = eventually(after_both_shipments, what="inventory to apply both shipments")
    assert availability["available_to_sell"] == 1
    assert sum(loc["reserved"] for loc in availability["locations"]) == 0
    invariants = stack.inventory.get("/v1/invariants").json()
    assert invariants["ledger_matches_balances"] is True

    def booked() -> list[str]:
        entries = stack.finance.get("/v1/journal", source_id=order_id).json()
        return sorted(e["source_type"] for e in entries)

    expected = ["payment_capture", "sale", "stock_issue", "stock_issue"]
    eventually(lambda: booked() == expected, what="sale, capture and cost of goods booked")
    balance = stack.finance.get("/v1/trial-balance").json()
    assert balance["balanced"] is True
    assert stack.payment(order_id)["status"] == "captured"
