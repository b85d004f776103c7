"""Inventory's business metrics: the backorder queue, and the oversold units that must read 0."""

from __future__ import annotations

import pytest

from inventory_harness import Inventory, reserve

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def test_the_backorder_queue_and_oversold_units_are_sampled(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 1)
    await inventory.publish(reserve("O-1", ("MUG", 2), backorder=True))
    await inventory.publish(reserve("O-2", ("MUG", 3), backorder=True))
    await inventory.sample_metrics()

    assert await inventory.metric("keel_backorders_open") == 2
    assert await inventory.metric("keel_backorder_units_open") == 5
    assert await inventory.metric("keel_oversold_units") == 0

    await inventory.receive("MUG", "WH-A", 4)  # serves the queue, oldest first
    await inventory.sample_metrics()
    assert await inventory.metric("keel_backorders_open") == 0
    assert await inventory.metric("keel_backorder_units_open") == 0
