"""Service tests: the projection of orders and shipments (`projection.py`) applied as consumer
batches, on a real (SQLite) database. Rows an order did not have are added as staged rows that
later messages of the batch go on changing, rows it had are changed as loaded; either way a
batch ends exactly where the same messages applied one batch each end, down to every row, also
when a failing message makes the kit redo the batch message by message."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from keel_contracts.events import (
    OrderedLine,
    OrderPlaced,
    PaymentRefunded,
    ShipmentDelivered,
)
from keel_contracts.times import as_utc
from keel_contracts.values import Money
from keel_kit.testing import Timed, running, selects, statements_run
from keel_returns.models import (
    SHIPMENT_SEEN,
    SHIPPED_ITEM,
    SHIPPED_ORDER,
    NewItem,
    NewOrder,
    NewShipment,
)
from returns_harness import Stack, released, returns_app, shipped

pytestmark = pytest.mark.service

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=5)  # the service's clock, fixed so that `updated_at` compares


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def placed(order_id: str, *lines: tuple[str, int, str], channel: str = "web") -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        channel=channel,
        customer_id="c-1",
        lines=tuple(
            OrderedLine(sku=sku, quantity=q, unit_price=Money(amount=Decimal(p), currency="USD"))
            for sku, q, p in lines
        ),
        total=Money(amount=Decimal("99.00"), currency="USD"),
        shipping=Money(amount=Decimal("4.95"), currency="USD"),
    )


def delivered(order_id: str, shipment_id: str) -> ShipmentDelivered:
    return ShipmentDelivered(shipment_id=shipment_id, order_id=order_id)


# Orders E and F are known before the batch: E placed, F placed, released and shipped.
EARLIER: list[Timed] = [
    (placed("E", ("MUG-1", 1, "10.00")), at(0)),
    (placed("F", ("MUG-1", 2, "10.00")), at(0)),
    (released("F"), at(1)),
    (shipped("F", "s-F1", ("MUG-1", 2)), at(2)),
]

BATCH: list[Timed] = [
    # A: its whole life in the batch, a repeated placement and shipment among it.
    (placed("A", ("MUG-1", 2, "12.00"), ("MUG-1", 1, "9.50"), ("CUP-1", 1, "5.00")), at(0)),
    (released("A"), at(1)),
    (placed("A", ("MUG-1", 9, "1.00")), at(1.5)),  # a repeat under a new event id
    (shipped("A", "s-A1", ("MUG-1", 2), ("CUP-1", 1)), at(2)),
    (shipped("A", "s-A1", ("MUG-1", 2), ("CUP-1", 1)), at(2.5)),
    (delivered("A", "s-A1"), at(30)),
    (shipped("A", "s-A2", ("MUG-1", 1), ("TEE-1", 1)), at(40)),
    # B: released before it is placed; the release's channel stays.
    (released("B", "store"), at(1)),
    (placed("B", ("MUG-1", 1, "10.00")), at(2)),
    # C: delivered before it is heard shipped; its window counts from the delivery.
    (delivered("C", "s-C1"), at(50)),
    (shipped("C", "s-C1", ("MUG-1", 1)), at(10)),
    (delivered("C", "s-C1"), at(60)),  # a repeat: the first delivery stands
    # D: nothing but a shipment.
    (shipped("D", "s-D1", ("CUP-1", 3)), at(3)),
    # E: placed before; released, shipped and delivered now.
    (released("E"), at(1)),
    (shipped("E", "s-E1", ("MUG-1", 1)), at(2)),
    (delivered("E", "s-E1"), at(20)),
    # F: shipped before; a second shipment adds to its item and brings a new one, then the
    # first is delivered.
    (shipped("F", "s-F2", ("MUG-1", 1), ("CUP-1", 1)), at(5)),
    (delivered("F", "s-F1"), at(70)),
]

# A payment of a refund never made: dead-lettered, so the kit redoes the batch message by message.
GHOST = PaymentRefunded(
    order_id="A",
    refund_id="ghost",
    return_id="r-ghost",
    amount=Money(amount=Decimal("1.00"), currency="USD"),
)


@asynccontextmanager
async def started(tmp_path: Path, name: str) -> AsyncIterator[Stack]:
    folder = tmp_path / name
    folder.mkdir()
    async with running(returns_app(folder), Stack) as stack:
        stack.runtime.context = dataclasses.replace(stack.runtime.context, clock=lambda: NOW)
        await stack.apply_at(*EARLIER)
        yield stack


async def rows(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    """Every row of the projection's three tables, by primary key."""
    found = {}
    async with stack.db.transaction() as session:
        connection = await session.connection()
        for table in (SHIPPED_ORDER, SHIPPED_ITEM, SHIPMENT_SEEN):
            result = await connection.execute(select(table).order_by(*table.primary_key))
            found[table.name] = [dict(row._mapping) for row in result]
    return found


async def batched_and_one_by_one(
    tmp_path: Path, messages: Sequence[Timed]
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The rows after `messages` applied as one batch, and one batch each; and the batch's
    SQL statements."""
    async with started(tmp_path, "batched") as stack:
        with statements_run(stack.db) as statements:
            await stack.apply_at(*messages)
        batched = {"rows": await rows(stack), "dead_letters": len(await stack.dead_letters())}
    async with started(tmp_path, "one-by-one") as stack:
        for message in messages:
            await stack.apply_at(message)
        one_by_one = {"rows": await rows(stack), "dead_letters": len(await stack.dead_letters())}
    return batched, one_by_one, statements


@pytest.mark.asyncio
async def test_a_batch_of_an_order_s_events_ends_where_one_at_a_time_ends(tmp_path: Path) -> None:
    batched, one_by_one, statements = await batched_and_one_by_one(tmp_path, BATCH)

    assert batched == one_by_one
    assert not any(s.upper().startswith("SAVEPOINT") for s in statements)  # the fast path
    # The orders with their items and shipments: no query per message (the inbox claims its
    # events with an insert, no select).
    assert len(selects(statements)) == 3
    orders = {o["order_id"]: o for o in batched["rows"]["shipped_order"]}
    assert (orders["A"]["channel"], orders["A"]["total"]) == ("marketplace", Decimal("99.00"))
    assert orders["A"]["unit_prices"] == {"MUG-1": "9.50", "CUP-1": "5.00"}
    assert (orders["B"]["channel"], orders["C"]["total"]) == ("store", None)
    assert {as_utc(o["updated_at"]) for o in orders.values()} == {NOW}
    items = {(i["order_id"], i["sku"]): i for i in batched["rows"]["shipped_item"]}
    window = {
        key: (i["shipped"], as_utc(i["window_from"]), i["window_from_delivery"])
        for key, i in items.items()
    }
    assert window == {
        ("A", "CUP-1"): (1, at(30), True),
        ("A", "MUG-1"): (3, at(40), False),  # the later shipment's window
        ("A", "TEE-1"): (1, at(40), False),
        ("C", "MUG-1"): (1, at(50), True),
        ("D", "CUP-1"): (3, at(3), False),
        ("E", "MUG-1"): (1, at(20), True),
        ("F", "CUP-1"): (1, at(5), False),
        ("F", "MUG-1"): (3, at(70), True),
    }


@pytest.mark.asyncio
async def test_a_batch_redone_message_by_message_ends_where_one_at_a_time_ends(
    tmp_path: Path,
) -> None:
    messages = [*BATCH[:5], (GHOST, at(3)), *BATCH[5:]]

    batched, one_by_one, statements = await batched_and_one_by_one(tmp_path, messages)

    assert any(s.upper().startswith("SAVEPOINT") for s in statements)  # redone, isolated
    assert batched == one_by_one
    assert batched["dead_letters"] == 1


@pytest.mark.parametrize(
    ("row", "table"),
    [(NewOrder, SHIPPED_ORDER), (NewItem, SHIPPED_ITEM), (NewShipment, SHIPMENT_SEEN)],
)
def test_a_new_row_has_every_column_of_its_table(row: type, table: Table) -> None:
    assert {f.name for f in dataclasses.fields(row)} == set(table.columns.keys())
