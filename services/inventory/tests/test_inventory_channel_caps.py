"""Service tests of channel allocation: each channel's rule shapes what it may sell, reservations
(one by one and in a consumer batch, the backorder queue too) keep to it, and what a channel
holds follows its reservations through release and shipment."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from inventory_harness import Inventory
from keel_contracts.commands import ReleaseStock, ReserveStock
from keel_contracts.events import (
    ChannelRegistered,
    ShipmentShipped,
    StockReservationFailed,
    StockReserved,
)
from keel_contracts.roles import Role
from keel_contracts.values import Line
from keel_inventory import repository

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def order(order_id: str, channel: str, *lines: tuple[str, int], backorder: bool = False) -> Any:
    return ReserveStock(
        order_id=order_id,
        channel=channel,
        lines=tuple(Line(sku=sku, quantity=n) for sku, n in lines),
        backorder=backorder,
    )


async def announce(inventory: Inventory, *channels: str) -> None:
    """The order service announced these channels."""
    for channel in channels:
        await inventory.publish(
            ChannelRegistered(channel_id=channel, name=channel.title(), market_country="US")
        )


@pytest_asyncio.fixture(autouse=True)
async def channels(inventory: Inventory) -> None:
    await announce(inventory, "market", "wholesale", "web")


async def set_rule(inventory: Inventory, path: str, **rule: int) -> dict[str, Any]:
    response = await inventory.client.put(f"/v1/allocations/{path}", json=rule)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def may_sell(inventory: Inventory, sku: str, channel: str) -> int:
    response = await inventory.client.get(f"/v1/availability/{sku}", params={"channel": channel})
    assert response.status_code == 200, response.text
    units: int = response.json()["available_to_sell"]
    return units


async def answers_by_type(inventory: Inventory) -> dict[str, int]:
    counts: dict[str, int] = {}
    for answer in await inventory.answers():
        counts[answer.type] = counts.get(answer.type, 0) + 1
    return counts


async def test_a_capped_channel_sees_its_share_and_an_uncapped_one_the_rest(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 60)
    await inventory.receive("MUG", "WH-B", 40)
    await set_rule(inventory, "market", cap_percent=30)

    assert await may_sell(inventory, "MUG", "market") == 30
    assert await may_sell(inventory, "MUG", "web") == 100

    await inventory.publish(order("O-1", "market", ("MUG", 30)))

    assert await may_sell(inventory, "MUG", "market") == 0
    assert await may_sell(inventory, "MUG", "web") == 70
    body = (await inventory.client.get("/v1/availability/MUG?channel=market")).json()
    assert body["channel"]["held"] == 30
    assert body["channel"]["rule"]["cap_percent"] == 30
    await inventory.assert_invariants_hold()


async def test_sixty_one_unit_orders_in_one_batch_confirm_exactly_the_cap(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 100)
    await set_rule(inventory, "market", cap_percent=30)

    orders = [order(f"M-{n}", "market", ("MUG", 1)) for n in range(60)]
    assert await inventory.apply(*orders) == 60

    counts = await answers_by_type(inventory)
    assert counts == {StockReserved.type: 30, StockReservationFailed.type: 30}
    assert await may_sell(inventory, "MUG", "web") == 70
    await inventory.assert_invariants_hold()


async def test_a_pool_is_kept_from_other_channels_and_a_safety_buffer_from_its_own(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 100)
    await set_rule(inventory, "wholesale", pool_units=20)
    await set_rule(inventory, "market", safety_units=5)

    assert await may_sell(inventory, "MUG", "wholesale") == 100
    assert await may_sell(inventory, "MUG", "market") == 75  # 100 less 20 pooled, less 5 safety
    assert await may_sell(inventory, "MUG", "web") == 80

    await inventory.publish(order("W-1", "wholesale", ("MUG", 15)))  # 5 left of its pool

    assert await may_sell(inventory, "MUG", "web") == 80  # 85 free, 5 still pooled
    await inventory.publish(order("O-1", "web", ("MUG", 81)))
    (refused,) = [a for a in await inventory.answers() if a.correlation_id == "O-1"]
    assert refused.payload["short_lines"] == [{"sku": "MUG", "quantity": 1}]
    await inventory.assert_invariants_hold()


async def test_a_rule_for_one_sku_replaces_the_channels_default(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 10)
    await inventory.receive("PLATE", "WH-A", 10)
    await set_rule(inventory, "market", cap_units=2)
    await set_rule(inventory, "market/MUG")  # no limit of its own, whatever the default says

    assert await may_sell(inventory, "MUG", "market") == 10
    assert await may_sell(inventory, "PLATE", "market") == 2
    rules = (await inventory.client.get("/v1/allocations/market")).json()
    assert rules["default"]["cap_units"] == 2
    assert [(r["sku"], r["cap_units"]) for r in rules["skus"]] == [("MUG", None)]


async def test_what_a_channel_holds_follows_release_and_shipment(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 10)
    await set_rule(inventory, "market", cap_units=5)
    await inventory.publish(order("O-1", "market", ("MUG", 3)))
    await inventory.publish(order("O-2", "market", ("MUG", 2)))
    assert await may_sell(inventory, "MUG", "market") == 0

    await inventory.publish(ReleaseStock(order_id="O-1", reason="cancelled"))
    assert await may_sell(inventory, "MUG", "market") == 3

    shipped = ShipmentShipped(
        shipment_id="s-O-2",
        order_id="O-2",
        location_id="WH-A",
        lines=(Line(sku="MUG", quantity=2),),
        carrier="UPS",
        tracking_number="1Z",
    )
    await inventory.publish(shipped)
    # Shipped units are no longer held, and no longer sellable: the cap is the channel's to
    # use again.
    assert await may_sell(inventory, "MUG", "market") == 5
    await inventory.assert_invariants_hold()


async def test_the_backorder_queue_is_served_within_each_channels_cap(
    inventory: Inventory,
) -> None:
    await set_rule(inventory, "market", cap_percent=50)
    await inventory.publish(order("M-1", "market", ("MUG", 4), backorder=True))
    await inventory.publish(order("M-2", "market", ("MUG", 3), backorder=True))
    await inventory.publish(order("W-1", "web", ("MUG", 5), backorder=True))

    await inventory.receive("MUG", "WH-A", 10)  # market may hold 5 of the 10

    reserved = [a.correlation_id for a in await inventory.answers() if a.type == StockReserved.type]
    assert reserved == ["M-1", "W-1"]  # M-2 would take market to 7: it waits
    view = (await inventory.client.get("/v1/reservations/M-2")).json()
    assert view["status"] == "waiting"
    await inventory.assert_invariants_hold()


async def test_a_shipment_that_frees_cap_room_serves_the_channels_queue(
    inventory: Inventory,
) -> None:
    await set_rule(inventory, "market", cap_percent=50)
    await inventory.receive("MUG", "WH-A", 10)
    await inventory.publish(order("M-1", "market", ("MUG", 5)))
    await inventory.publish(order("M-2", "market", ("MUG", 2), backorder=True))  # over the cap
    await inventory.publish(
        ShipmentShipped(
            shipment_id="S-1",
            order_id="M-1",
            location_id="WH-A",
            lines=(Line(sku="MUG", quantity=5),),
            carrier="UPS",
            tracking_number="1Z",
        )
    )

    # 5 sellable, none held: market may hold 2 again, and its waiting order takes them.
    view = (await inventory.client.get("/v1/reservations/M-2")).json()
    assert view["status"] == "held"
    await inventory.assert_invariants_hold()


async def test_when_stock_is_short_the_channel_of_higher_priority_is_served_first(
    inventory: Inventory,
) -> None:
    await set_rule(inventory, "wholesale", priority=10)
    await set_rule(inventory, "market", priority=5)
    for order_id, channel in (("W-1", "web"), ("H-1", "wholesale"), ("M-1", "market")):
        await inventory.publish(order(order_id, channel, ("MUG", 2), backorder=True))
        await inventory.publish(order(f"{order_id}b", channel, ("MUG", 2), backorder=True))

    # One page at a time, as the queue is read when it is long: priority holds across pages.
    async with inventory.context.unit_of_work() as uow:
        seen, after = [], None
        while page := await repository.queued_for_skus(uow.session, ["MUG"], after=after, limit=1):
            seen.append(page[0].order_id)
            after = (page[0].priority, page[0].backorder_id)
    assert seen == ["H-1", "H-1b", "M-1", "M-1b", "W-1", "W-1b"]

    await inventory.receive("MUG", "WH-A", 6)  # three of the six orders

    reserved = [a.correlation_id for a in await inventory.answers() if a.type == StockReserved.type]
    assert reserved == ["H-1", "H-1b", "M-1"]
    refused = await inventory.client.put("/v1/allocations/market/MUG", json={"priority": 1})
    assert refused.status_code == 422
    assert "priority is the channel's" in refused.json()["detail"]


async def test_rules_are_versioned_audited_and_checked(inventory: Inventory) -> None:
    first = await set_rule(inventory, "market", cap_percent=30)
    again = await set_rule(inventory, "market", cap_percent=30)
    changed = await set_rule(inventory, "market", cap_percent=40, safety_units=2)
    assert (first["version"], again["version"], changed["version"]) == (1, 1, 2)
    assert changed["sku"] is None

    trail = (await inventory.client.get("/v1/audit", params={"object_id": "market"})).json()
    steps = [(e["action"], e["before"], e["after"]["version"]) for e in trail["items"]]
    assert [version for _, _, version in steps] == [2, 1]  # the newest first
    assert steps[0][1]["cap_percent"] == 30  # what it was before the change

    for bad in ({"cap_percent": 101}, {"pool_units": -1}, {"cap_units": "x"}, {"cap": 3}):
        response = await inventory.client.put("/v1/allocations/market", json=bad)
        assert response.status_code == 422, (bad, response.text)
    unknown = await inventory.client.put("/v1/allocations/market/NOPE", json={})
    assert unknown.status_code == 404
    no_channel = await inventory.client.put("/v1/allocations/markte", json={"cap_percent": 1})
    assert no_channel.status_code == 404
    assert "no channel markte" in no_channel.json()["detail"]
    missing = await inventory.client.get("/v1/allocations/market/MUG")
    assert missing.status_code == 404
    bad_channel = await inventory.client.get("/v1/availability/MUG", params={"channel": "a b"})
    assert bad_channel.status_code == 422

    as_warehouse = inventory.as_person("wes", Role.WAREHOUSE)
    refused = await inventory.client.put(
        "/v1/allocations/market", json={"cap_percent": 1}, headers=as_warehouse
    )
    assert refused.status_code == 403
