"""`GET /v1/checks`: the order service names every accepted order that is not settled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, update

from keel_kit.testing import check_findings
from keel_order.models import Order
from order_harness import ORDER, Stack, authorized, reserved

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def findings(stack: Stack) -> dict[str, list[str]]:
    return check_findings((await stack.client.get("/v1/checks")).json())


async def test_released_and_validating_orders_are_settled_a_stuck_one_is_named(
    stack: Stack,
) -> None:
    released, stuck = await stack.place(), await stack.place({**ORDER, "external_id": "W-2"})
    await stack.publish(reserved(released, ("WH-1", 2)))
    await stack.publish(authorized(released))
    assert await findings(stack) == {}

    async with stack.db.transaction() as session:
        long_ago = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        await session.exec(
            update(Order).where(col(Order.order_id) == stuck).values(updated_at=long_ago)
        )

    (name, found), *_ = (await findings(stack)).items()
    assert name.startswith("every accepted order is settled")
    assert found == [
        f"order {stuck}: validating since 2026-01-05 08:00:00, past the validation timeout"
    ]
