"""Service tests: a marketplace feed's batch through `POST /v1/orders/batch`."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from keel_contracts import Envelope
from order_harness import ORDER, Stack

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def order(external_id: str, **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(ORDER)
    body["external_id"] = external_id
    body.update(changes)
    return body


async def post_batch(stack: Stack, *items: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    response = await stack.client.post(
        "/v1/orders/batch",
        json={"orders": [{"idempotency_key": key, "order": body} for key, body in items]},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_each_order_of_a_batch_is_accepted_or_refused_alone(stack: Stack) -> None:
    unknown_sku = order("M-2", lines=[{"sku": "NOPE-1", "quantity": 1, "unit_price": "1.00"}])
    answer = await post_batch(
        stack,
        ("b-1", order("M-1")),
        ("b-2", unknown_sku),
        ("b-3", order("M-3", channel="nowhere")),
        ("b-4", order("M-1")),  # the same marketplace order again, under another key
        ("b-5", order("M-5")),
    )

    assert (answer["accepted"], answer["refused"]) == (2, 3)
    results = answer["results"]
    assert [r["idempotency_key"] for r in results] == ["b-1", "b-2", "b-3", "b-4", "b-5"]
    assert [r["status"] for r in results] == [202, 422, 422, 409, 202]
    assert results[1]["problem"]["errors"] == [
        {"field": "lines.0.sku", "message": "unknown sku NOPE-1"}
    ]
    assert results[2]["problem"]["errors"][0]["field"] == "channel"
    assert results[1]["order"] is None
    first = results[0]["order"]["order_id"]
    assert first in results[3]["problem"]["detail"]

    for accepted in (results[0], results[4]):
        order_id = accepted["order"]["order_id"]
        assert accepted["order"]["status"] == "validating"
        view = await stack.order(order_id)
        assert view["status"] == "validating"
        assert [h["status"] for h in view["history"]] == ["received", "validating"]
        sent = await stack.sent(order_id)
        assert [e.type for e in sent] == [
            "order.placed",
            "stock.reserve",
            "payment.authorize_sealed",
        ]


async def test_a_retried_batch_replays_every_answer(stack: Stack) -> None:
    items = [("r-1", order("R-1")), ("r-2", order("R-2"))]
    first = await post_batch(stack, *items)
    again = await post_batch(stack, *items)

    assert [r["order"] for r in again["results"]] == [r["order"] for r in first["results"]]
    assert [r["replayed"] for r in again["results"]] == [True, True]
    # And a single POST with one of the keys is the same order, not a second one.
    single = await stack.client.post(
        "/v1/orders", json=items[0][1], headers={"Idempotency-Key": "r-1"}
    )
    assert single.status_code == 202
    assert single.json() == first["results"][0]["order"]
    assert single.headers["Idempotent-Replayed"] == "true"


async def test_a_key_reused_with_another_body_is_refused_in_and_across_batches(
    stack: Stack,
) -> None:
    answer = await post_batch(stack, ("k-1", order("K-1")), ("k-1", order("K-2")))
    assert [r["status"] for r in answer["results"]] == [202, 422]
    assert answer["results"][1]["problem"]["errors"][0]["field"] == "Idempotency-Key"

    later = await post_batch(stack, ("k-1", order("K-3")), ("k-1", order("K-1")))
    assert [r["status"] for r in later["results"]] == [422, 202]
    assert later["results"][1]["order"] == answer["results"][0]["order"]


async def test_a_refused_order_can_be_sent_again_corrected_under_its_key(stack: Stack) -> None:
    bad = order("C-1", channel="nowhere")
    refused = await post_batch(stack, ("c-1", bad))
    assert refused["results"][0]["status"] == 422

    fixed = await post_batch(stack, ("c-1", order("C-1")))
    assert fixed["results"][0]["status"] == 202
    assert fixed["results"][0]["replayed"] is False


async def test_a_new_customer_with_two_orders_in_one_batch_is_new_only_once(stack: Stack) -> None:
    answer = await post_batch(stack, ("n-1", order("N-1")), ("n-2", order("N-2")))
    assert answer["accepted"] == 2
    scores = [(await stack.order(r["order"]["order_id"]))["fraud_score"] for r in answer["results"]]
    assert scores[0] > scores[1]  # the first order carries the new-customer points


async def test_a_malformed_batch_is_refused_whole_naming_the_field(stack: Stack) -> None:
    broken = order("X-1")
    broken["lines"][0]["quantity"] = 0
    response = await stack.client.post(
        "/v1/orders/batch",
        json={
            "orders": [
                {"idempotency_key": "x-0", "order": order("X-0")},
                {"idempotency_key": "x-1", "order": broken},
            ]
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "orders.1.order.lines.0.quantity"
    empty = await stack.client.post("/v1/orders/batch", json={"orders": []})
    assert empty.status_code == 422
    replay = await post_batch(stack, ("x-0", order("X-0")))
    assert replay["results"][0]["replayed"] is False  # nothing of the refused batch was kept


async def test_each_order_of_a_batch_goes_on_in_a_trace_of_its_own(stack: Stack) -> None:
    answer = await post_batch(stack, ("t-1", order("T-1")), ("t-2", order("T-2")))
    order_ids = [result["order"]["order_id"] for result in answer["results"]]

    def trace_ids(sent: list[Envelope]) -> set[str]:
        return {str(envelope.traceparent).split("-")[1] for envelope in sent}

    first, second = [trace_ids(await stack.sent(order_id)) for order_id in order_ids]
    # Every message about an order carries its order's trace, and no other order's.
    assert len(first) == len(second) == 1
    assert first != second
