"""What was ordered (with its prices) and what shipped per order, kept from the order service's
and fulfillment's events.

Handlers run in batches inside one transaction: every function here reads and writes the order
through `repository.order_facts`, so a later message of a batch sees what an earlier one wrote.
Shipments are keyed by their id, so a repeated event (even under a new event id) counts once.
"""

from __future__ import annotations

from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope
from keel_contracts.events import OrderPlaced, OrderReleased, ShipmentDelivered, ShipmentShipped
from keel_returns import domain, repository
from keel_returns.context import Work
from keel_returns.domain import Clock
from keel_returns.models import ShipmentSeen, ShippedItem, ShippedOrder
from keel_returns.repository import OrderFacts


async def record_released(*, uow: Work, event: OrderReleased) -> None:
    """The channel the order was released on, whose return policy applies to it."""
    facts = await repository.order_facts(uow.session, event.order_id)
    order = _order(uow.session, facts)
    order.channel = event.channel
    order.updated_at = uow.service.clock()


async def record_placed(*, uow: Work, event: OrderPlaced) -> None:
    """The order's money: what refunds are worked out from and capped at.

    A SKU on several lines at different prices refunds at its lowest, so no unit comes back
    for more than was paid for it.
    """
    facts = await repository.order_facts(uow.session, event.order_id)
    order = _order(uow.session, facts)
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
    order.updated_at = uow.service.clock()


async def record_shipped(*, uow: Work, event: ShipmentShipped, cause: Envelope) -> None:
    """The shipment's units, shipped when `cause` happened: the return window of each starts
    then (unless its delivery came first)."""
    session, at = uow.session, cause.occurred_at
    facts = await repository.order_facts(session, event.order_id)
    order = _order(session, facts)
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
        item = facts.items.get(sku)
        if item is None:
            item = ShippedItem(
                order_id=event.order_id,
                sku=sku,
                window_from=clock.started_at,
                window_from_delivery=clock.delivered,
            )
            facts.items[sku] = item
            session.add(item)
        item.shipped += quantity
        _advance(item, clock)
    order.updated_at = uow.service.clock()


async def record_delivered(*, uow: Work, event: ShipmentDelivered, cause: Envelope) -> None:
    """The shipment delivered when `cause` happened: its units' return windows count from then."""
    session, at = uow.session, cause.occurred_at
    facts = await repository.order_facts(session, event.order_id)
    order = _order(session, facts)
    shipment = _shipment(session, facts, event.shipment_id)
    if shipment.delivered_at is not None:
        return
    shipment.delivered_at = at
    for sku in shipment.lines:
        _advance(facts.items[sku], Clock(at, delivered=True))
    order.updated_at = uow.service.clock()


def _advance(item: ShippedItem, clock: Clock) -> None:
    current = Clock(item.window_from, delivered=item.window_from_delivery)
    later = current.later(clock)
    item.window_from, item.window_from_delivery = later.started_at, later.delivered


def _order(session: AsyncSession, facts: OrderFacts) -> ShippedOrder:
    if facts.order is None:
        facts.order = ShippedOrder(order_id=facts.order_id)
        session.add(facts.order)
    return facts.order


def _shipment(session: AsyncSession, facts: OrderFacts, shipment_id: str) -> ShipmentSeen:
    shipment = facts.shipments.get(shipment_id)
    if shipment is None:
        shipment = ShipmentSeen(shipment_id=shipment_id, order_id=facts.order_id)
        facts.shipments[shipment_id] = shipment
        session.add(shipment)
    return shipment
