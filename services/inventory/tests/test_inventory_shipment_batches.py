"""Service tests: shipments issued in the kit's batches, which read their orders' reservations
and items once for the whole batch, end exactly where the same messages applied one at a time
end: the same stock, reservations, channel holds and messages, whatever else the batch does to
those reservations first (a release, a new reservation, a backorder its shipments serve)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inventory_harness import Inventory, reserve
from keel_contracts import Message
from keel_contracts.commands import ReleaseStock, ReserveStock
from keel_contracts.events import (
    ChannelRegistered,
    OrderConfirmed,
    OrderReleased,
    ShipmentShipped,
)
from keel_contracts.values import Line
from keel_inventory import repository
from keel_inventory.main import create_app
from keel_inventory.settings import Settings
from keel_kit import testing
from keel_kit.testing import running, selects, statements_run

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

NOW = datetime.now(UTC)  # both runs' clock, so their reservations expire alike
ORDERS = ("M-1", "M-2", "W-1", "W-2", "W-3", "W-4", "N-1", "X-1")
ID_FIELDS = {"movement_id", "reservation_id"}  # new on every run


@asynccontextmanager
async def started(folder: Path, name: str) -> AsyncIterator[Inventory]:
    """A fresh inventory knowing MUG, PLATE, WH-A, WH-B and the market and web channels, with
    market capped at five units; its clock stopped at NOW."""
    settings = Settings(state_dir=folder, database_url=f"sqlite+aiosqlite:///{folder / name}.db")
    async with running(create_app(settings), Inventory) as inventory:
        inventory.runtime.context = replace(inventory.context, clock=lambda: NOW)
        await inventory.register_items_and_locations()
        for channel in ("market", "web"):
            await inventory.apply(
                ChannelRegistered(channel_id=channel, name=channel, market_country="US")
            )
        capped = await inventory.client.put("/v1/allocations/market", json={"cap_units": 5})
        assert capped.status_code == 200, capped.text
        yield inventory


def order(order_id: str, channel: str, *lines: tuple[str, int], backorder: bool = False) -> Any:
    return ReserveStock(
        order_id=order_id,
        channel=channel,
        lines=tuple(Line(sku=sku, quantity=n) for sku, n in lines),
        backorder=backorder,
    )


def shipped(
    order_id: str, location_id: str, *lines: tuple[str, int], n: int = 1
) -> ShipmentShipped:
    return ShipmentShipped(
        shipment_id=f"s-{order_id}-{location_id}-{n}",
        order_id=order_id,
        location_id=location_id,
        lines=tuple(Line(sku=sku, quantity=q) for sku, q in lines),
        carrier="UPS",
        tracking_number="1Z",
    )


async def stage_orders(inventory: Inventory) -> None:
    """Stock at both warehouses, and orders holding it (one of market's queued, over its cap)."""
    await inventory.receive("MUG", "WH-A", 20)
    await inventory.receive("MUG", "WH-B", 4)
    await inventory.receive("PLATE", "WH-A", 6)
    for command in (
        order("M-1", "market", ("MUG", 5)),
        order("M-2", "market", ("MUG", 2), backorder=True),
        order("W-1", "web", ("MUG", 3), ("PLATE", 2)),
        order("W-2", "web", ("MUG", 2)),
        order("W-3", "web", ("PLATE", 1)),
        order("W-4", "web", ("PLATE", 1)),
    ):
        await inventory.apply(command)


async def outcome(inventory: Inventory) -> dict[str, Any]:
    """Everything the shipments may have changed, ids that differ between runs left out."""
    views = {}
    for order_id in ORDERS:
        response = await inventory.client.get(f"/v1/reservations/{order_id}")
        views[order_id] = (response.status_code, _without_ids(response.json()))
    async with inventory.context.unit_of_work() as uow:
        holds = await repository.channel_holds(uow.session, ["MUG", "PLATE"])
    said = {
        topic: [(e.type, _without_ids(e.payload)) for e in await inventory.staged(topic)]
        for topic in ("inventory.stock.v1", "inventory.reservation.v1")
    }
    return {
        "stock": {sku: await inventory.stock(sku) for sku in ("MUG", "PLATE")},
        "reservations": views,
        "channel_holds": holds,
        "messages": said,
        "dead_letters": len(await inventory.dead_letters()),
    }


def _without_ids(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: _without_ids(v) for k, v in body.items() if k not in ID_FIELDS}
    if isinstance(body, list):
        return [_without_ids(v) for v in body]
    return body


async def batched_and_one_by_one(
    tmp_path: Path, messages: Sequence[Message]
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The outcome of `messages` applied as one batch, and applied one batch each; and whether
    the batch was redone message by message (the kit isolating a failure). The batched run must
    keep inventory's invariants."""
    return await testing.batched_and_one_by_one(
        lambda name: started(tmp_path, name),
        messages,
        stage=stage_orders,
        outcome=outcome,
        check=Inventory.assert_invariants_hold,
    )


async def test_a_batch_of_shipments_ends_where_one_at_a_time_ends(tmp_path: Path) -> None:
    messages = (
        OrderReleased(order_id="W-1", channel="web", allocations=()),  # before it ships
        shipped("M-1", "WH-A", ("MUG", 5)),  # frees market's cap: M-2 leaves the queue
        shipped("M-2", "WH-A", ("MUG", 2)),  # held by the shipment before, in this batch
        shipped("W-1", "WH-A", ("MUG", 3), ("PLATE", 2)),
        shipped("W-2", "WH-A", ("MUG", 1), n=1),  # one order, two shipments, one SKU
        shipped("W-2", "WH-A", ("MUG", 1), n=2),
        shipped("W-2", "WH-A", ("MUG", 1), n=3),  # one more than it held: from sellable only
        shipped("W-3", "WH-A", ("PLATE", 1)),
        OrderConfirmed(order_id="W-3", lines=(Line(sku="PLATE", quantity=1),)),  # after
        ReleaseStock(order_id="W-4", reason="cancelled"),  # released, then shipped anyway
        shipped("W-4", "WH-A", ("PLATE", 1)),
        reserve("N-1", ("MUG", 1)),  # held in this batch, then shipped in it
        shipped("N-1", "WH-A", ("MUG", 1)),
        shipped("X-1", "WH-B", ("MUG", 1)),  # never reserved
    )

    batched, one_by_one, isolated = await batched_and_one_by_one(tmp_path, messages)

    assert not isolated  # every shipment took the batch's fast path
    assert batched == one_by_one
    assert batched["dead_letters"] == 0
    statuses = {
        order_id: body["status"]
        for order_id, (code, body) in batched["reservations"].items()
        if code == 200
    }
    assert statuses == {
        "M-1": "committed",
        "M-2": "committed",
        "W-1": "committed",
        "W-2": "committed",
        "W-3": "committed",
        "W-4": "released",
        "N-1": "committed",
    }
    assert batched["reservations"]["X-1"][0] == 404


async def test_a_shipment_that_fails_for_good_leaves_the_rest_of_its_batch_issued(
    tmp_path: Path,
) -> None:
    messages = (
        shipped("M-1", "WH-A", ("MUG", 5)),
        shipped("W-1", "WH-A", ("MUG", 3), ("NOPE", 1)),  # an unknown SKU: dead-lettered
        shipped("W-3", "WH-A", ("PLATE", 1)),
    )

    batched, one_by_one, isolated = await batched_and_one_by_one(tmp_path, messages)

    assert isolated
    assert batched == one_by_one
    assert batched["dead_letters"] == 1
    assert batched["stock"]["PLATE"] == {"WH-A": (5, 3)}  # W-3's unit left; W-1's still held
    assert batched["reservations"]["W-1"][1]["status"] == "held"


async def test_a_batch_reads_its_shipments_reservations_and_items_once(tmp_path: Path) -> None:
    async with started(tmp_path, "inventory") as inventory:
        await stage_orders(inventory)
        messages = [  # the web's orders: none frees a capped channel's room to serve its queue
            shipped("W-1", "WH-A", ("MUG", 3), ("PLATE", 2)),
            shipped("W-2", "WH-A", ("MUG", 2)),
            shipped("W-3", "WH-A", ("PLATE", 1)),
            shipped("W-4", "WH-A", ("PLATE", 1)),
        ]

        with statements_run(inventory.db) as statements:
            assert await inventory.apply(*messages) == len(messages)

    def reading(table: str) -> list[str]:
        return [s for s in selects(statements) if f"FROM {table}" in s.replace('"', "")]

    assert len(reading("reservation")) == 1  # with what they hold, joined
    assert len(reading("reservation_allocation")) == 0
    assert len(reading("item")) == 1

    def updating(table: str) -> list[str]:
        return [s for s in statements if s.upper().startswith(f"UPDATE {table.upper()} ")]

    assert len(updating("reservation")) == 1  # their statuses, committed together
    assert len(updating("reservation_allocation")) == 1  # the units that shipped of each
