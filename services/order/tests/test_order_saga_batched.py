"""Service tests: the saga's answers applied as one consumer batch end exactly where the same
answers applied one at a time end: every order, line, hold, shipment, history entry and
notification row, and every message sent. The batch's orders are read once and their holds and
shipments are added beside them (the order's relationships are read-only views), so what one
message of a batch opens (a hold, a shipment) must be there for the next message about it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import DateTime, select

from keel_contracts import Message
from keel_contracts.events import (
    PaymentDeclined,
    PaymentHeld,
    PurchaseOrderDelayed,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentShipped,
    StockReleased,
    StockReservationFailed,
)
from keel_contracts.values import Line
from keel_kit import testing
from keel_order import intake
from keel_order.models import (
    CustomerNotification,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    OrderShipment,
    core_table,
)
from order_harness import ORDER, Stack, authorized, reserved, running_order

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

# The orders' ids, the same on both services: the messages name them before either exists.
O1, O2, O3, O4, O5, O6, O7 = (str(uuid.UUID(int=n)) for n in range(1, 8))
MUGS = (Line(sku="MUG-1", quantity=2),)
# Rows as the saga leaves them; their times (the clock's, at each run) are left out.
TABLES = (Order, OrderLine, OrderEvent, OrderHold, OrderShipment, CustomerNotification)


def delayed(expected: str) -> PurchaseOrderDelayed:
    return PurchaseOrderDelayed(
        purchase_order_id="PO-1",
        supplier_id="SUP-1",
        location_id="WH-1",
        lines=(Line(sku="MUG-1", quantity=40),),
        previous_expected_at=datetime(2030, 5, 4, tzinfo=UTC),
        expected_at=datetime.fromisoformat(expected).replace(tzinfo=UTC),
    )


def shipment(kind: type[ShipmentCreated | ShipmentShipped], order_id: str) -> Message:
    fields: dict[str, Any] = {"carrier": "UPS", "tracking_number": "1Z1"}
    return kind(
        shipment_id=f"s-{order_id}",
        order_id=order_id,
        location_id="WH-1",
        lines=MUGS,
        **(fields if kind is ShipmentShipped else {}),
    )


MESSAGES: tuple[Message, ...] = (
    # Confirmed and released.
    reserved(O1, ("WH-1", 2)),
    authorized(O1),
    # A payment hold opened in the batch stops the reservation that follows it.
    PaymentHeld(order_id=O2, reason="review"),
    reserved(O2, ("WH-1", 2)),
    # Backordered, a supplier's delay noticed and renewed, then the stock comes and closes it.
    StockReservationFailed(order_id=O3, short_lines=MUGS, reason="short", waiting=True),
    authorized(O3),
    delayed("2030-06-10"),
    delayed("2030-07-01"),
    reserved(O3, ("WH-1", 2)),
    # Released, then shipped and delivered by shipments created in the same batch.
    reserved(O4, ("WH-1", 2)),
    authorized(O4),
    shipment(ShipmentCreated, O4),
    shipment(ShipmentShipped, O4),
    ShipmentDelivered(shipment_id=f"s-{O4}", order_id=O4),
    # Rejected: its compensations go out.
    PaymentDeclined(order_id=O5, reason="insufficient funds"),
    # Its reservation expires before payment: once authorized, it asks for the stock again.
    reserved(O6, ("WH-1", 2)),
    StockReleased(order_id=O6, reservation_id=f"r-{O6}", reason="expired", expired=True),
    authorized(O6),
    # A shipment first heard of as cancelled is recorded where it was.
    ShipmentCancelled(shipment_id=f"s-{O7}", order_id=O7, location_id="WH-2", reason="gone"),
)


class OrderIds:
    """Order ids O1, O2... in the order orders are placed, from 1 again on each service."""

    def __init__(self) -> None:
        self.issued = 0

    def next(self) -> uuid.UUID:
        self.issued += 1
        return uuid.UUID(int=self.issued)


@pytest.fixture
def order_ids(monkeypatch: pytest.MonkeyPatch) -> OrderIds:
    ids = OrderIds()
    monkeypatch.setattr(intake, "new_event_id", ids.next)
    return ids


async def outcome(stack: Stack) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    async with stack.db.transaction() as session:
        connection = await session.connection()
        for model in TABLES:
            table = core_table(model)
            columns = [c for c in table.columns if not isinstance(c.type, DateTime)]
            query = select(*columns).order_by(*table.primary_key)
            rows[table.name] = [dict(row._mapping) for row in await connection.execute(query)]
    sent = [
        (e.type, {k: v for k, v in e.payload.items() if k != "sealed_token"})
        for e in await stack.staged()
    ]
    return {"rows": rows, "sent": sent, "dead_letters": await stack.dead_letters()}


async def test_a_batch_of_answers_ends_where_one_at_a_time_ends(
    tmp_path: Path, order_ids: OrderIds
) -> None:
    async def place_orders(stack: Stack) -> None:
        order_ids.issued = 0
        for n in range(1, 8):
            await stack.place({**ORDER, "external_id": f"E-{n}"})
        assert order_ids.issued == 7

    @asynccontextmanager
    async def start(name: str) -> AsyncIterator[Stack]:
        folder = tmp_path / name
        folder.mkdir()
        async with running_order(folder, Stack) as stack:
            yield stack

    batched, one_by_one, isolated = await testing.batched_and_one_by_one(
        start, MESSAGES, stage=place_orders, outcome=outcome
    )

    assert not isolated  # every message took the batch's fast path
    assert batched == one_by_one
    assert batched["dead_letters"] == []
    statuses = {row["order_id"]: row["status"] for row in batched["rows"]["sales_order"]}
    assert statuses == {
        O1: "released",
        O2: "on_hold",
        O3: "released",
        O4: "delivered",
        O5: "rejected",
        O6: "validating",
        O7: "validating",
    }
    holds = [(h["order_id"], h["type"]) for h in batched["rows"]["order_hold"]]
    assert holds == [(O2, "payment_hold"), (O3, "supplier_delay")]
    shipments = [(s["shipment_id"], s["status"]) for s in batched["rows"]["order_shipment"]]
    assert shipments == [(f"s-{O4}", "delivered"), (f"s-{O7}", "cancelled")]
    # The delay's notice was opened, renewed by the second delay and closed by the stock.
    notice = batched["rows"]["order_hold"][1]
    assert "to 2030-07-01" in notice["reason"]
    assert notice["resolution"] == "closed"
