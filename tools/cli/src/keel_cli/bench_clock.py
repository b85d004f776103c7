"""When each step of an order's path happened, as the services stamped it, read from Kafka.

The clock reads the topics of an order's path (reservation, confirmation, shipment, the sale's
journal posting) with a consumer outside every group, from their end when it starts, so it sees
only what happens during the bench and never moves a service's offsets. Every time is the
event's `occurred_at` (when its service committed it), not when the clock read it: a slow
reader makes no order look slower.

Delivery is at least once, so the same event may be read twice: per order only the first time
of each step counts, and reservations are counted by their id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from keel_contracts import Envelope, topic_for_message
from keel_contracts.events import (
    JournalEntryPosted,
    OrderConfirmed,
    ShipmentCreated,
    ShipmentShipped,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from keel_kit.broker_lag import stop_groupless_consumer
from keel_kit.kafka_access import KafkaAccess
from keel_kit.topic_reader import partitions_of

# The steps timed per order, in the order an order takes them.
RESERVED = StockReserved.type
CONFIRMED = OrderConfirmed.type
CREATED = ShipmentCreated.type
SHIPPED = ShipmentShipped.type
POSTED = JournalEntryPosted.type  # the sale's entry only: the last event of an order's path
STEPS = (RESERVED, CONFIRMED, CREATED, SHIPPED, POSTED)
# The journal entry that books an order's sale (finance posts it when it captures the payment,
# once the order has shipped); its source_id is the order id.
SALE = "sale"

WATCHED_TOPICS = tuple(
    dict.fromkeys(
        topic_for_message(m).name
        for m in (StockReserved, OrderConfirmed, ShipmentCreated, JournalEntryPosted)
    )
)


@dataclass(frozen=True)
class CreatedShipment:
    """A shipment fulfillment created: what a warehouse needs to report it shipped."""

    shipment_id: str
    order_id: str
    location_id: str


@dataclass(frozen=True)
class Reservation:
    order_id: str
    units: dict[str, int]  # sku -> units held


class EventClock:
    """Remembers when each step happened per order, what inventory last answered about each
    order's stock, and the units every reservation holds; tells `on_created` of each new
    shipment (the bench's warehouse ships them)."""

    def __init__(
        self, kafka: KafkaAccess, on_created: Callable[[CreatedShipment], None] | None = None
    ) -> None:
        self.kafka = kafka
        self.on_created = on_created
        self.seen: dict[str, dict[str, float]] = {step: {} for step in STEPS}
        # order id -> "reserved", "backordered" (waiting for stock), "rejected" or "released"
        self.stock_answer: dict[str, str] = {}
        self.reservations: dict[str, Reservation] = {}  # by reservation id
        self.released: set[str] = set()  # reservation ids given back
        self._shipments: set[str] = set()  # shipment ids already told to `on_created`
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(**self.kafka.client_options(), enable_auto_commit=False)
        await consumer.start()
        assigned = [
            TopicPartition(topic, p)
            for topic in WATCHED_TOPICS
            for p in await partitions_of(self.kafka, topic)
        ]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        self._consumer = consumer
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batches.values():
                for record in records:
                    self.record(Envelope.from_bytes(record.value))

    def record(self, envelope: Envelope) -> None:
        """Take one event in: its time, if it is a step of an order's path, and what it says
        about the order's stock."""
        payload, at = envelope.payload, envelope.occurred_at.timestamp()
        if envelope.type == POSTED:
            if payload.get("source_type") == SALE:
                self.seen[POSTED].setdefault(payload["source_id"], at)
        elif envelope.type == RESERVED:
            reserved = StockReserved.model_validate(payload)
            self._first(RESERVED, reserved.order_id, at)
            self.stock_answer[reserved.order_id] = "reserved"
            units: dict[str, int] = {}
            for allocation in reserved.allocations:
                units[allocation.sku] = units.get(allocation.sku, 0) + allocation.quantity
            self.reservations[reserved.reservation_id] = Reservation(reserved.order_id, units)
        elif envelope.type == StockReservationFailed.type:
            failed = StockReservationFailed.model_validate(payload)
            self.stock_answer[failed.order_id] = "backordered" if failed.waiting else "rejected"
        elif envelope.type == StockReleased.type:
            released = StockReleased.model_validate(payload)
            self.released.add(released.reservation_id)
            if self.stock_answer.get(released.order_id) == "reserved":
                self.stock_answer[released.order_id] = "released"
        elif envelope.type in (CONFIRMED, SHIPPED):
            self._first(envelope.type, payload["order_id"], at)
        elif envelope.type == CREATED:
            created = ShipmentCreated.model_validate(payload)
            self._first(CREATED, created.order_id, at)
            # An order split over locations has a shipment per location: each is reported.
            if created.shipment_id not in self._shipments and self.on_created is not None:
                self.on_created(
                    CreatedShipment(created.shipment_id, created.order_id, created.location_id)
                )
            self._shipments.add(created.shipment_id)

    def _first(self, step: str, order_id: str, at: float) -> None:
        """Keep the step's first time for the order."""
        self.seen[step].setdefault(order_id, at)

    def short_of_stock(self) -> dict[str, str]:
        """Orders inventory last answered it could not hold stock for: "backordered" (waiting
        for goods that may never come) or "rejected". Neither reaches a journal posting."""
        return {
            order_id: answer
            for order_id, answer in self.stock_answer.items()
            if answer in ("backordered", "rejected")
        }

    def units_held(self, sku: str) -> int:
        """Units of `sku` every reservation seen took and did not give back: those shipped
        plus those still reserved."""
        return sum(
            r.units.get(sku, 0)
            for reservation_id, r in self.reservations.items()
            if reservation_id not in self.released
        )

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self._consumer:
            await stop_groupless_consumer(self._consumer)
