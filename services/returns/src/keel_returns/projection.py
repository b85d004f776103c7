"""What was ordered (with its prices) and what shipped per order, kept from the order service's
and fulfillment's events.

Handlers run in batches inside one transaction: every function here reads and writes the order
through `repository.order_facts`, so a later message of a batch sees what an earlier one wrote.
Shipments are keyed by their id, so a repeated event (even under a new event id) counts once.

Rows the order already had are changed as the ORM objects loaded (and locked) for the batch;
rows it did not have are added as plain staged rows (`repository.add_order` ...), which later
messages of the batch change in place until the transaction writes them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope
from keel_contracts.events import OrderPlaced, OrderReleased, ShipmentDelivered, ShipmentShipped
from keel_returns import domain, repository
from keel_returns.context import Work
from keel_returns.domain import Clock
from keel_returns.models import (
    NewItem,
    NewOrder,
    NewShipment,
    ShipmentSeen,
    ShippedItem,
    ShippedOrder,
)
from keel_returns.repository import OrderFacts

# A row as the projection changes it: loaded, or added by this transaction.
Order = ShippedOrder | NewOrder
Item = ShippedItem | NewItem
Shipment = ShipmentSeen | NewShipment


async def record_released(*, uow: Work, event: OrderReleased) -> None:
    """The channel the order was released on, whose return policy applies to it."""
    now = uow.service.clock()
    order = _order(uow.session, await repository.order_facts(uow.session, event.order_id), now)
    order.channel = event.channel
    order.updated_at = now


async def record_placed(*, uow: Work, event: OrderPlaced) -> None:
    """The order's money: what refunds are worked out from and capped at.

    A SKU on several lines at different prices refunds at its lowest, so no unit comes back
    for more than was paid for it.
    """
    now = uow.service.clock()
    order = _order(uow.session, await repository.order_facts(uow.session, event.order_id), now)
    if order.total is not None:
        return  # a repeat
    order.currency = event.total.currency
    order.total = event.total.amount
    order.shipping = event.shipping.amount if event.shipping is not None else None
    order.ordered = domain.per_sku((line.sku, line.quantity) for line in event.lines)
    prices: dict[str, str] = {}
    for line in event.lines:
        if line.unit_price is None:
            continue
        known = prices.get(line.sku)
        if known is None or line.unit_price.amount < Decimal(known):
            prices[line.sku] = str(line.unit_price.amount)
    order.unit_prices = prices
    if order.channel is None:
        order.channel = event.channel
    order.updated_at = now


async def record_shipped(*, uow: Work, event: ShipmentShipped, cause: Envelope) -> None:
    """The shipment's units, shipped when `cause` happened: the return window of each starts
    then (unless its delivery came first)."""
    session, at, now = uow.session, cause.occurred_at, uow.service.clock()
    facts = await repository.order_facts(session, event.order_id)
    order = _order(session, facts, now)
    shipment = _shipment(session, facts, event.shipment_id)
    if shipment.shipped_at is not None:
        return  # already counted
    quantities = domain.per_sku((line.sku, line.quantity) for line in event.lines)
    shipment.lines = quantities
    shipment.shipped_at = at
    clock = (
        Clock(shipment.delivered_at, delivered=True)
        if shipment.delivered_at is not None  # its delivery came first
        else Clock(at, delivered=False)
    )
    for sku, quantity in quantities.items():
        item = _item(facts, sku)
        if item is None:
            item = repository.add_item(
                session, facts, sku, window_from=clock.started_at, delivered=clock.delivered
            )
        item.shipped += quantity
        _advance(item, clock)
    order.updated_at = now


async def record_delivered(*, uow: Work, event: ShipmentDelivered, cause: Envelope) -> None:
    """The shipment delivered when `cause` happened: its units' return windows count from then."""
    session, at, now = uow.session, cause.occurred_at, uow.service.clock()
    facts = await repository.order_facts(session, event.order_id)
    order = _order(session, facts, now)
    shipment = _shipment(session, facts, event.shipment_id)
    if shipment.delivered_at is not None:
        return
    shipment.delivered_at = at
    for sku in shipment.lines:
        item = _item(facts, sku)
        assert item is not None  # its shipment recorded it
        _advance(item, Clock(at, delivered=True))
    order.updated_at = now


def _advance(item: Item, clock: Clock) -> None:
    current = Clock(item.window_from, delivered=item.window_from_delivery)
    later = current.later(clock)
    item.window_from, item.window_from_delivery = later.started_at, later.delivered


def _order(session: AsyncSession, facts: OrderFacts, now: datetime) -> Order:
    if facts.order is not None:
        return facts.order
    if facts.new_order is not None:
        return facts.new_order
    return repository.add_order(session, facts, at=now)


def _item(facts: OrderFacts, sku: str) -> Item | None:
    item = facts.items.get(sku)
    return item if item is not None else facts.new_items.get(sku)


def _shipment(session: AsyncSession, facts: OrderFacts, shipment_id: str) -> Shipment:
    shipment = facts.shipments.get(shipment_id)
    if shipment is not None:
        return shipment
    new = facts.new_shipments.get(shipment_id)
    return new if new is not None else repository.add_shipment(session, facts, shipment_id)
