"""Service tests of a channel's cap on the units one customer may hold: an order that would take
a customer past it is refused before it asks for any stock (alone, or as one item of a batch),
units shipped, cancelled or rejected no longer count, and another customer or channel is free."""

from __future__ import annotations

from typing import Any

import pytest

from keel_order.domain import Status
from order_harness import ORDER, Stack

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

CAPPED: dict[str, Any] = {
    "channel_id": "drops",
    "name": "Limited drops",
    "market_country": "US",
    "backorder_policy": "reject",
    "max_units_per_customer": 5,
}


def order(external_id: str, units: int, customer: str = "C-1") -> dict[str, Any]:
    return ORDER | {
        "channel": "drops",
        "external_id": external_id,
        "customer": {"customer_id": customer, "email": f"{customer.lower()}@example.com"},
        "lines": [{"sku": "MUG-1", "quantity": units, "unit_price": "12.50"}],
    }


async def capped(stack: Stack) -> None:
    response = await stack.client.post("/v1/channels", json=CAPPED)
    assert response.status_code == 201, response.text
    assert response.json()["max_units_per_customer"] == 5


async def test_an_order_past_the_customers_cap_is_refused_and_asks_for_nothing(
    stack: Stack,
) -> None:
    await capped(stack)
    await stack.place(order("D-1", 3))
    response = await stack.client.post(
        "/v1/orders", json=order("D-2", 3), headers={"Idempotency-Key": "D-2"}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert "holds 3 units in open drops orders; 3 more would pass the 5" in problem["detail"]
    assert problem["errors"][0]["field"] == "lines"
    assert await stack.staged(key="D-2") == []

    await stack.place(order("D-3", 2))  # exactly up to the cap
    await stack.place(order("D-4", 5, customer="C-2"))  # another customer has their own
    await stack.place(
        ORDER | {"external_id": "W-9", "lines": [ORDER["lines"][0] | {"quantity": 9}]}
    )


async def test_units_of_a_cancelled_order_no_longer_count(stack: Stack) -> None:
    await capped(stack)
    first = await stack.place(order("D-1", 5))
    cancelled = await stack.client.post(
        f"/v1/orders/{first}/cancel", json={"reason": "changed mind"}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (await stack.order(first))["status"] == Status.CANCELLED

    await stack.place(order("D-2", 5))


async def test_a_batch_counts_its_own_earlier_orders_against_the_cap(stack: Stack) -> None:
    await capped(stack)
    items = [order("B-1", 3), order("B-2", 3), order("B-3", 2)]
    batch = {"orders": [{"idempotency_key": o["external_id"], "order": o} for o in items]}
    response = await stack.client.post("/v1/orders/batch", json=batch)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [202, 422, 202]
    assert results[1]["problem"]["errors"][0]["field"] == "lines"


async def test_a_cap_must_be_a_positive_number_of_units(stack: Stack) -> None:
    response = await stack.client.post("/v1/channels", json=CAPPED | {"max_units_per_customer": 0})
    assert response.status_code == 422


async def test_admin_changes_the_cap_and_the_change_is_audited(stack: Stack) -> None:
    await capped(stack)
    await stack.place(order("D-1", 5))
    raised = await stack.client.patch("/v1/channels/drops", json={"max_units_per_customer": 8})
    assert raised.status_code == 200, raised.text
    assert raised.json()["max_units_per_customer"] == 8
    assert raised.json()["backorder_policy"] == "reject"  # what the change left out stays
    await stack.place(order("D-2", 3))

    lifted = await stack.client.patch("/v1/channels/drops", json={"max_units_per_customer": None})
    assert lifted.json()["max_units_per_customer"] is None
    await stack.place(order("D-3", 20))

    entries = (await stack.get_json("/v1/audit", object_id="drops"))["items"]
    assert [e["action"] for e in entries] == [
        "channel.changed",
        "channel.changed",
        "channel.created",
    ]
    last = entries[0]  # newest first
    assert last["action"] == "channel.changed"
    assert (last["before"]["max_units_per_customer"], last["after"]["max_units_per_customer"]) == (
        8,
        None,
    )
    missing = await stack.client.patch("/v1/channels/nowhere", json={"name": "x"})
    assert missing.status_code == 404
    nulled = await stack.client.patch("/v1/channels/drops", json={"backorder_policy": None})
    assert nulled.status_code == 422
