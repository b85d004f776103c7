"""Service tests: the saga's answers consumed in batches cost a fixed number of statements,
however many orders the batch carries (DESIGN §4: no per-message round trips on hot paths)."""

from __future__ import annotations

import copy

import pytest

from keel_contracts import Message
from order_harness import ORDER, Stack, authorized, reserved

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def place_many(stack: Stack, count: int, tag: str) -> list[str]:
    items = []
    for n in range(count):
        body = copy.deepcopy(ORDER)
        body["external_id"] = f"{tag}-{n}"
        items.append({"idempotency_key": f"{tag}-{n}", "order": body})
    response = await stack.client.post("/v1/orders/batch", json={"orders": items})
    assert response.status_code == 200, response.text
    return [r["order"]["order_id"] for r in response.json()["results"]]


def answers(order_ids: list[str]) -> list[Message]:
    messages: list[Message] = []
    for order_id in order_ids:
        messages += [reserved(order_id, ("WH-1", 2)), authorized(order_id)]
    return messages


async def test_a_batch_of_answers_costs_about_the_same_statements_for_3_or_30_orders(
    stack: Stack,
) -> None:
    few = await place_many(stack, 3, "few")
    many = await place_many(stack, 30, "many")

    for_few = await stack.statements_to_apply(answers(few))
    for_many = await stack.statements_to_apply(answers(many))

    # The same statements either way; only the ORM's grouping of UPDATEs into executemany
    # runs (by the set of columns changed) may split one more or less.
    assert for_many <= for_few + 2
    assert for_many < len(many)  # far from one round trip per message
    for order_id in few + many:
        assert (await stack.order(order_id))["status"] == "released"
        sent = [e.type for e in await stack.sent(order_id)]
        assert sent[-2:] == ["order.confirmed", "order.released"]
