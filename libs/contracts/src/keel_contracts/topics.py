"""The topic registry: every topic Keel uses, who owns it, what keys it, and how it is kept.

Topics are created from this registry at service start (broker auto-creation stays off), so the
partition count, retention and compaction here are the truth. Keys keep each aggregate's
messages on one partition, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from keel_contracts import commands as cmd
from keel_contracts import events as ev
from keel_contracts.envelope import Message

ServiceName = Literal["order", "inventory", "fulfillment", "procurement", "returns", "finance"]
SERVICES: tuple[ServiceName, ...] = (
    "order",
    "inventory",
    "fulfillment",
    "procurement",
    "returns",
    "finance",
)

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name, what its key is, its layout and the messages it may carry.

    A command topic belongs to the service that carries the commands out; the services that
    send them are its `senders`. On a secured broker the owner and the senders are the only
    ones allowed to write to it, and the consumers the only ones to read it.
    """

    name: str
    key: str
    owner: ServiceName
    consumers: tuple[ServiceName, ...]
    messages: tuple[type[Message], ...]
    partitions: int = 6
    retention_ms: int = 7 * DAY_MS
    compacted: bool = False
    senders: tuple[ServiceName, ...] = ()

    @property
    def writers(self) -> tuple[ServiceName, ...]:
        return (self.owner, *self.senders)

    def config(self) -> dict[str, str]:
        """Broker-side topic configuration to create the topic with."""
        if self.compacted:
            return {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        name="inventory.item.v1",
        key="sku",
        owner="inventory",
        consumers=("order", "fulfillment", "procurement", "returns", "finance"),
        messages=(ev.ItemRegistered,),
        partitions=3,
        compacted=True,
    ),
    TopicSpec(
        name="inventory.location.v1",
        key="location_id",
        owner="inventory",
        consumers=("fulfillment", "procurement"),
        messages=(ev.LocationRegistered,),
        partitions=1,
        compacted=True,
    ),
    TopicSpec(
        name="inventory.stock.v1",
        key="sku",
        owner="inventory",
        consumers=("procurement", "finance"),
        messages=(ev.StockReceived, ev.StockIssued, ev.StockReturned, ev.StockAdjusted),
    ),
    TopicSpec(
        name="inventory.reservation.v1",
        key="order_id",
        owner="inventory",
        consumers=("order",),
        messages=(ev.StockReserved, ev.StockReservationFailed, ev.StockReleased),
    ),
    TopicSpec(
        name="inventory.availability.v1",
        key="sku",
        owner="inventory",
        consumers=(),
        messages=(ev.AvailabilityChanged,),
        compacted=True,
    ),
    TopicSpec(
        name="inventory.commands.v1",
        key="order_id",
        owner="inventory",
        senders=("order",),
        consumers=("inventory",),
        messages=(cmd.ReserveStock, cmd.ReleaseStock),
    ),
    TopicSpec(
        name="orders.order.v1",
        key="order_id",
        owner="order",
        consumers=("inventory", "fulfillment", "returns", "finance"),
        messages=(
            ev.OrderPlaced,
            ev.OrderConfirmed,
            ev.OrderReleased,
            ev.OrderCancelled,
            ev.OrderRejected,
        ),
    ),
    TopicSpec(
        name="orders.channel.v1",
        key="channel_id",
        owner="order",
        consumers=("inventory",),
        messages=(ev.ChannelRegistered,),
        partitions=1,
        compacted=True,
    ),
    TopicSpec(
        name="fulfillment.shipment.v1",
        key="order_id",
        owner="fulfillment",
        consumers=("order", "inventory", "returns"),
        messages=(
            ev.ShipmentCreated,
            ev.ShipmentShipped,
            ev.ShipmentDelivered,
            ev.ShipmentCancelled,
        ),
    ),
    TopicSpec(
        name="procurement.purchase_order.v1",
        key="purchase_order_id",
        owner="procurement",
        consumers=("inventory", "order"),
        messages=(
            ev.PurchaseOrderConfirmed,
            ev.PurchaseOrderDrafted,
            ev.PurchaseOrderApproved,
            ev.PurchaseOrderSent,
            ev.PurchaseOrderReceived,
            ev.PurchaseOrderCancelled,
            ev.PurchaseOrderClosed,
            ev.PurchaseOrderDelayed,
        ),
        partitions=3,
    ),
    TopicSpec(
        name="procurement.supplier.v1",
        key="supplier_id",
        owner="procurement",
        consumers=("inventory",),
        messages=(ev.SupplierRated,),
        partitions=1,
        compacted=True,
    ),
    TopicSpec(
        name="returns.return.v1",
        key="return_id",
        owner="returns",
        consumers=("inventory", "finance"),
        messages=(ev.ReturnAuthorized, ev.ReturnReceived, ev.ReturnInspected, ev.RefundRequested),
        partitions=3,
    ),
    TopicSpec(
        name="finance.commands.v1",
        key="order_id",
        owner="finance",
        senders=("order",),
        consumers=("finance",),
        messages=(
            cmd.AuthorizePayment,
            cmd.CapturePayment,
            cmd.VoidPayment,
            cmd.ResolvePaymentReview,
        ),
    ),
    # The command topic's next major version: authorizations carry the card token sealed for
    # finance. v1 stays, for its other commands and until what is left of its plaintext
    # authorizations has been read.
    TopicSpec(
        name="finance.commands.v2",
        key="order_id",
        owner="finance",
        senders=("order",),
        consumers=("finance",),
        messages=(cmd.AuthorizeSealedPayment,),
    ),
    TopicSpec(
        name="finance.payment.v1",
        key="order_id",
        owner="finance",
        consumers=("order", "returns"),
        messages=(
            ev.PaymentAuthorized,
            ev.PaymentDeclined,
            ev.PaymentHeld,
            ev.PaymentCaptured,
            ev.PaymentVoided,
            ev.PaymentRefunded,
        ),
    ),
    TopicSpec(
        name="finance.journal.v1",
        key="source_id",
        owner="finance",
        consumers=(),
        messages=(ev.JournalEntryPosted,),
        retention_ms=30 * DAY_MS,
    ),
)


def consumer_group(service: ServiceName) -> str:
    """The one consumer group of a service; replicas of the service share its partitions."""
    return f"{service}-service"


def dead_letter_topic(group: str) -> str:
    """Each consumer group parks what it can never process on `<group>.dlq`."""
    return f"{group}.dlq"


# The headers a consumer adds to a record it dead-letters (a replay drops them again), and the
# one a replayed record carries: `<dead-letter topic>@<offset>`.
DEAD_LETTER_HEADERS = (
    "keel-original-topic",
    "keel-original-partition",
    "keel-original-offset",
    "keel-consumer",
    "keel-error",
    "keel-failed-at",
)
REPLAYED_FROM = "keel-replayed-from"


def dead_letter_spec(service: ServiceName) -> TopicSpec:
    return TopicSpec(
        name=dead_letter_topic(consumer_group(service)),
        key="original key",
        owner=service,
        consumers=(),
        messages=(),
        partitions=1,
        retention_ms=30 * DAY_MS,
    )


def topic(name: str) -> TopicSpec:
    """Look a topic up by name; an unknown name is a programming error."""
    for spec in TOPICS:
        if spec.name == name:
            return spec
    raise KeyError(f"topic {name!r} is not in the registry")


def topics_for(service: ServiceName) -> tuple[TopicSpec, ...]:
    """What a service must find on the broker: topics it writes or reads, and its dead letters."""
    used = tuple(t for t in TOPICS if service in t.writers or service in t.consumers)
    return (*used, dead_letter_spec(service))


def topic_for_message(message: type[Message]) -> TopicSpec:
    """The single topic a message type travels on."""
    matches = [t for t in TOPICS if message in t.messages]
    if len(matches) != 1:
        raise KeyError(f"{message.__name__} travels on {len(matches)} topics, expected one")
    return matches[0]
