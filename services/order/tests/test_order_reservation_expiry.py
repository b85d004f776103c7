"""Service tests of an order whose reservation expires while it waits: an order on hold hoards
no stock (inventory gives it back after its time), asks for it again when the hold is
released, and only then confirms; a confirmed order that loses its reservation in a race asks
again at once; a release the order asked for itself changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from test_order_holds import KIM, Stack, authorized, plain, reserved, risky

from keel_contracts.events import StockReleased
from keel_order import saga
from order_harness import SLOW_CHANNEL, running_order

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_order(tmp_path, Stack) as stack:
        yield stack


def expired(order_id: str) -> StockReleased:
    return StockReleased(
        order_id=order_id, reservation_id=f"r-{order_id}", reason="expired", expired=True
    )


async def test_a_reservation_expired_on_hold_is_asked_again_when_the_hold_is_released(
    stack: Stack,
) -> None:
    order_id = await stack.place(risky("R-1"))
    await stack.publish(reserved(order_id))
    await stack.publish(authorized(order_id))
    await stack.publish(expired(order_id))  # the fraud review took longer than the hold

    order = await stack.order(order_id)
    assert order["status"] == "on_hold"
    assert [line["reserved"] for line in order["lines"]] == [0]
    assert (await stack.sent_types(order_id)).count("stock.reserve") == 1  # nothing hoarded

    hold_id = await stack.hold_id(order_id, "fraud_review")
    response = await stack.resolve(order_id, hold_id, "release", by=KIM)

    assert response.json()["status"] == "validating"  # not confirmed on stock it no longer has
    sent = await stack.sent(order_id)
    assert [e.type for e in sent].count("stock.reserve") == 2
    assert sent[-1].type == "stock.reserve"
    assert sent[-1].payload["lines"] == [{"sku": "MUG-1", "quantity": 2}]

    await stack.publish(reserved(order_id))  # held again
    assert (await stack.order(order_id))["status"] == "released"


async def test_a_confirmed_order_that_lost_its_reservation_asks_again_at_once(
    stack: Stack,
) -> None:
    assert (await stack.client.post("/v1/channels", json=SLOW_CHANNEL)).status_code == 201
    order_id = await stack.place(plain("S-1") | {"channel": "slow"})
    await stack.publish(reserved(order_id))
    await stack.publish(authorized(order_id))
    assert (await stack.order(order_id))["status"] == "confirmed"

    await stack.publish(expired(order_id))

    order = await stack.order(order_id)
    assert order["status"] == "validating"
    sent = await stack.sent(order_id)
    assert sent[-1].type == "stock.reserve"
    assert sent[-1].payload["backorder"] is True  # the channel's policy, as at intake
    await stack.run_job(saga.release_delayed)
    assert (await stack.order(order_id))["status"] == "validating"  # nothing to release yet


async def test_a_release_the_order_asked_for_changes_nothing(stack: Stack) -> None:
    order_id = await stack.place(risky("R-2"))
    await stack.publish(reserved(order_id))
    before = await stack.order(order_id)

    await stack.publish(
        StockReleased(order_id=order_id, reservation_id=f"r-{order_id}", reason="cancelled")
    )

    after = await stack.order(order_id)
    assert after["lines"] == before["lines"]
    assert after["status"] == before["status"]
