"""The order service's events on orders.order.v1."""

from pydantic import ConfigDict

from keel_contracts.envelope import Message
from keel_contracts.events.inventory import Allocation
from keel_contracts.values import Line, Money

# --- orders.order.v1 ---


class OrderedLine(Line):
    """A line of an order as placed: what one unit sells for, when the producer says.

    `from_attributes` lets a producer written before `unit_price` keep passing plain `Line`s.
    """

    model_config = ConfigDict(from_attributes=True)  # the rest (frozen, extra ignored) from Line

    unit_price: Money | None = None


class OrderPlaced(Message):
    """`total` is what the customer pays: goods plus `shipping` (when given) less discounts."""

    type = "order.placed"
    order_id: str
    channel: str
    customer_id: str
    lines: tuple[OrderedLine, ...]
    total: Money
    shipping: Money | None = None


class OrderConfirmed(Message):
    type = "order.confirmed"
    order_id: str
    lines: tuple[Line, ...]


class OrderCancelled(Message):
    type = "order.cancelled"
    order_id: str
    reason: str


class OrderRejected(Message):
    type = "order.rejected"
    order_id: str
    reason: str


class OrderReleased(Message):
    """Released to fulfillment: ship these allocations (one shipment per location)."""

    type = "order.released"
    order_id: str
    channel: str
    allocations: tuple[Allocation, ...]


# --- orders.channel.v1: compacted, each sales channel as the order service has it now ---


class ChannelRegistered(Message):
    """A sales channel as the order service has it now: sent when the channel is created and
    again whenever it changes, so the compacted topic holds every channel there is."""

    type = "channel.registered"
    channel_id: str
    name: str
    market_country: str
