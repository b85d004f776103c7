"""The bench's clock: each step's first time per order, stock answers, units held, shipments
handed to the warehouse, from events fed to it as Kafka would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from keel_cli.bench_clock import (
    CONFIRMED,
    POSTED,
    RESERVED,
    CreatedShipment,
    EventClock,
)
from keel_contracts import Envelope
from keel_contracts.envelope import Message
from keel_contracts.events import (
    JournalEntryPosted,
    OrderConfirmed,
    ShipmentCreated,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from keel_contracts.events.finance import JournalLine
from keel_contracts.events.inventory import Allocation
from keel_contracts.values import Line
from keel_kit.kafka_access import KafkaAccess

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _at(message: Message, seconds: float) -> Envelope:
    envelope = Envelope.wrap(message, source="test", correlation_id="c")
    return envelope.model_copy(update={"occurred_at": T0 + timedelta(seconds=seconds)})


def _clock() -> tuple[EventClock, list[CreatedShipment]]:
    told: list[CreatedShipment] = []
    return EventClock(KafkaAccess("never-contacted:9092"), on_created=told.append), told


def _reserved(order_id: str, reservation_id: str, units: int, sku: str = "HOT") -> StockReserved:
    return StockReserved(
        order_id=order_id,
        reservation_id=reservation_id,
        allocations=(Allocation(location_id="WH-EAST", sku=sku, quantity=units),),
        expires_at=T0 + timedelta(hours=1),
    )


def _posting(source_type: str, order_id: str) -> JournalEntryPosted:
    lines = (
        JournalLine(account="1100", debit=Decimal("16.99"), credit=Decimal(0)),
        JournalLine(account="4000", debit=Decimal(0), credit=Decimal("16.99")),
    )
    return JournalEntryPosted(
        entry_id="e1", source_id=order_id, source_type=source_type, currency="USD", lines=lines
    )


def test_only_the_first_time_of_a_step_counts_for_an_order() -> None:
    clock, _ = _clock()
    confirmed = OrderConfirmed(order_id="o1", lines=(Line(sku="A", quantity=1),))

    clock.record(_at(confirmed, 5))
    clock.record(_at(confirmed, 9))  # a duplicate delivery, read later

    assert clock.seen[CONFIRMED] == {"o1": T0.timestamp() + 5}


def test_only_the_sales_entry_is_the_orders_journal_posting() -> None:
    clock, _ = _clock()

    clock.record(_at(_posting("payment_capture", "o1"), 3))
    clock.record(_at(_posting("stock_issue", "o2"), 3))
    clock.record(_at(_posting("sale", "o1"), 4))

    assert clock.seen[POSTED] == {"o1": T0.timestamp() + 4}


def test_each_new_shipment_is_handed_to_the_warehouse_once() -> None:
    clock, told = _clock()
    created = ShipmentCreated(
        shipment_id="s1", order_id="o1", location_id="WH-EAST", lines=(Line(sku="A", quantity=1),)
    )
    second = created.model_copy(update={"shipment_id": "s2", "location_id": "WH-WEST"})

    clock.record(_at(created, 1))
    clock.record(_at(created, 2))  # the same shipment, delivered twice
    clock.record(_at(second, 3))  # the order's other location

    assert told == [
        CreatedShipment("s1", "o1", "WH-EAST"),
        CreatedShipment("s2", "o1", "WH-WEST"),
    ]


def test_short_of_stock_is_inventorys_last_failing_answer() -> None:
    clock, _ = _clock()
    clock.record(_at(_reserved("o1", "r1", 1), 1))
    clock.record(_at(StockReservationFailed(order_id="o2", short_lines=(), reason="x"), 1))
    waiting = StockReservationFailed(order_id="o3", short_lines=(), reason="x", waiting=True)
    clock.record(_at(waiting, 1))
    # o4 waited, then receipts covered it: it is no longer short.
    clock.record(_at(waiting.model_copy(update={"order_id": "o4"}), 1))
    clock.record(_at(_reserved("o4", "r4", 1), 2))

    assert clock.short_of_stock() == {"o2": "rejected", "o3": "backordered"}
    assert clock.seen[RESERVED].keys() == {"o1", "o4"}


def test_units_held_count_each_reservation_once_and_not_those_given_back() -> None:
    clock, _ = _clock()
    clock.record(_at(_reserved("o1", "r1", 3), 1))
    clock.record(_at(_reserved("o1", "r1", 3), 1))  # duplicate delivery
    clock.record(_at(_reserved("o2", "r2", 2), 1))
    clock.record(_at(_reserved("o3", "r3", 5, sku="OTHER"), 1))
    clock.record(_at(StockReleased(order_id="o2", reservation_id="r2", reason="cancelled"), 2))

    assert clock.units_held("HOT") == 3
    assert clock.stock_answer["o2"] == "released"
