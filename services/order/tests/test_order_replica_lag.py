"""Service tests: an order naming a SKU the item replica has not learnt yet."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from keel_contracts.events import ItemRegistered
from keel_contracts.values import Money
from keel_kit.catchup import FixedLag, ReplicaCatchup
from order_harness import ORDER, Stack, running_order

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

ITEMS = "inventory.item.v1"


def order_of(external_id: str, sku: str) -> dict[str, Any]:
    body = copy.deepcopy(ORDER)
    body["external_id"] = external_id
    body["lines"] = [{"sku": sku, "quantity": 1, "unit_price": "9.00"}]
    return body


def items_behind(lag: int) -> pytest.MarkDecorator:
    """Run the test on a stack whose item replica is `lag` messages behind."""
    return pytest.mark.parametrize("stack", [lag], indirect=True, ids=[f"items-{lag}-behind"])


@pytest_asyncio.fixture
async def stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_order(tmp_path, Stack, lags={ITEMS: request.param}) as stack:
        yield stack


def catch_up(stack: Stack) -> None:
    """The item replica has caught up from now on."""
    stack.runtime.context = replace(stack.context, catchup=ReplicaCatchup(FixedLag()))


def lag_source(stack: Stack) -> FixedLag:
    source = stack.context.catchup.source
    assert isinstance(source, FixedLag)
    return source


@items_behind(2)
async def test_an_unknown_sku_while_the_replica_lags_is_a_503_to_retry(stack: Stack) -> None:

    response = await stack.client.post(
        "/v1/orders", json=order_of("L-1", "NEW-1"), headers={"Idempotency-Key": "L-1"}
    )

    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    problem = response.json()
    assert problem["detail"].startswith("sku NEW-1 is not known here yet")
    assert "inventory.item.v1 is 2 messages behind" in problem["detail"]
    assert problem["errors"][0]["field"] == "lines.0.sku"


@items_behind(1)
async def test_the_retry_is_accepted_once_the_item_has_arrived(stack: Stack) -> None:
    body, key = order_of("L-2", "NEW-2"), {"Idempotency-Key": "L-2"}
    assert (await stack.client.post("/v1/orders", json=body, headers=key)).status_code == 503

    await stack.publish(
        ItemRegistered(
            sku="NEW-2", name="New", unit_cost=Money(amount=Decimal("3"), currency="USD")
        )
    )
    catch_up(stack)
    retried = await stack.client.post("/v1/orders", json=body, headers=key)

    assert retried.status_code == 202, retried.text  # the 503 was not remembered for the key
    assert "Idempotent-Replayed" not in retried.headers


@items_behind(0)
async def test_an_unknown_sku_is_a_422_once_the_replica_has_caught_up(stack: Stack) -> None:

    response = await stack.client.post(
        "/v1/orders", json=order_of("L-3", "NOPE-3"), headers={"Idempotency-Key": "L-3"}
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "lines.0.sku", "message": "unknown sku NOPE-3"}]


@items_behind(4)
async def test_a_batch_answers_503_for_the_order_waiting_on_the_replica_only(
    stack: Stack,
) -> None:

    response = await stack.client.post(
        "/v1/orders/batch",
        json={
            "orders": [
                {"idempotency_key": "B-1", "order": order_of("B-1", "MUG-1")},
                {"idempotency_key": "B-2", "order": order_of("B-2", "NEW-4")},
            ]
        },
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["refused"]) == (1, 1)
    known, waiting = answer["results"]
    assert known["status"] == 202
    assert waiting["status"] == 503
    assert waiting["order"] is None
    assert (waiting["problem"]["lag"], waiting["problem"]["retry_after"]) == (4, 1)
    assert waiting["problem"]["errors"][0]["field"] == "lines.0.sku"


@items_behind(7)
async def test_orders_of_known_skus_never_ask_how_far_the_replica_lags(stack: Stack) -> None:
    source = lag_source(stack)

    response = await stack.client.post(
        "/v1/orders", json=order_of("K-1", "MUG-1"), headers={"Idempotency-Key": "K-1"}
    )

    assert response.status_code == 202
    assert source.asked == []
