"""Service tests of the availability feed: what each channel may sell of a SKU is published on
inventory.availability.v1 when it changes, once per run however often it changed, and not
again when it comes back the same."""

from __future__ import annotations

from typing import Any

import pytest

from inventory_harness import Inventory, reserve
from keel_contracts.commands import ReleaseStock
from keel_contracts.events import ChannelRegistered
from keel_inventory.availability_feed import publish_changed

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

FEED = "inventory.availability.v1"


async def announce(inventory: Inventory, *channels: str) -> None:
    for channel in channels:
        await inventory.publish(
            ChannelRegistered(channel_id=channel, name=channel.title(), market_country="US")
        )


async def publish(inventory: Inventory) -> list[dict[str, Any]]:
    """Run the feed's job once; what it published this time."""
    before = len(await inventory.staged(FEED))
    async with inventory.context.unit_of_work() as work:
        await publish_changed(work)
    return [e.payload for e in (await inventory.staged(FEED))[before:]]


async def test_each_channel_is_told_what_it_may_sell(inventory: Inventory) -> None:
    await announce(inventory, "market", "web")
    await inventory.receive("MUG", "WH-A", 100)
    cap = await inventory.client.put("/v1/allocations/market", json={"cap_percent": 30})
    assert cap.status_code == 200, cap.text

    (published,) = await publish(inventory)

    assert published == {
        "sku": "MUG",
        "available_to_sell": 100,
        "channels": {"market": 30, "web": 100},
    }
    (envelope,) = await inventory.staged(FEED)
    assert (await inventory.staged(FEED, key="MUG")) == [envelope]  # keyed by SKU


async def test_many_changes_between_runs_are_published_once_as_they_stand(
    inventory: Inventory,
) -> None:
    await announce(inventory, "web")
    await inventory.receive("MUG", "WH-A", 10)
    await inventory.receive("PLATE", "WH-A", 4)
    await publish(inventory)

    orders = [reserve(f"O-{n}", ("MUG", 1)) for n in range(6)]
    assert await inventory.apply(*orders) == 6
    await inventory.publish(ReleaseStock(order_id="O-0", reason="cancelled"))

    assert await publish(inventory) == [
        {"sku": "MUG", "available_to_sell": 5, "channels": {"web": 5}}
    ]
    assert await publish(inventory) == []  # nothing changed since


async def test_a_change_that_comes_back_the_same_is_not_sent_again(inventory: Inventory) -> None:
    await announce(inventory, "web")
    await inventory.receive("MUG", "WH-A", 10)
    await publish(inventory)

    await inventory.publish(reserve("O-1", ("MUG", 2)))
    await inventory.publish(ReleaseStock(order_id="O-1", reason="cancelled"))

    assert await publish(inventory) == []


async def test_a_new_channel_is_told_about_every_sku(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 3)
    await inventory.receive("PLATE", "WH-B", 2)
    assert [p["channels"] for p in await publish(inventory)] == [{}, {}]

    await announce(inventory, "market")

    published = {p["sku"]: p["channels"] for p in await publish(inventory)}
    assert published == {"MUG": {"market": 3}, "PLATE": {"market": 2}}


async def test_a_channel_announced_unreadably_is_dead_lettered(inventory: Inventory) -> None:
    bad = ChannelRegistered(channel_id="c" * 65, name="Too long", market_country="US")
    await inventory.publish(bad)

    (reason,) = await inventory.dead_letters()
    assert "too long" in reason
    missing = await inventory.client.put(f"/v1/allocations/{'c' * 64}", json={})
    assert missing.status_code == 404
