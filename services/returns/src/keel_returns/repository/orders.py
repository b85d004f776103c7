"""What this service knows of each order (the projection of the order service's and
fulfillment's events), loaded and locked once per transaction: every step on an order's
returns, refunds and projection takes its row first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit import staged
from keel_kit.db import one_of
from keel_returns.models import (
    SHIPMENT_SEEN,
    SHIPPED_ITEM,
    SHIPPED_ORDER,
    NewItem,
    NewOrder,
    NewShipment,
    ShipmentSeen,
    ShippedItem,
    ShippedOrder,
)


@dataclass
class OrderFacts:
    """What this service knows of one order, loaded (and locked) once per transaction.

    `order`, `items` and `shipments` are the rows it had when loaded. The rows a consumer batch
    adds (`add_order`, `add_item`, `add_shipment`) are kept apart in `new_*` until the
    transaction ends: only the projection, which adds them, reads them before then.
    """

    order_id: str
    order: ShippedOrder | None = None
    items: dict[str, ShippedItem] = field(default_factory=dict)
    shipments: dict[str, ShipmentSeen] = field(default_factory=dict)
    new_order: NewOrder | None = None
    new_items: dict[str, NewItem] = field(default_factory=dict)
    new_shipments: dict[str, NewShipment] = field(default_factory=dict)


# session.info: the orders this transaction has loaded, by id. Kept here (the session's identity
# map holds objects only weakly) so that a batch asks the database once and later messages of
# the batch see what earlier ones wrote.
_ORDERS = "keel_returns.orders"


async def load_orders(session: AsyncSession, order_ids: set[str]) -> None:
    """Load and lock many orders with their items and shipments in three queries.

    Rows are locked in id order, so two replicas locking overlapping batches cannot deadlock;
    they are read afresh, as a rolled-back savepoint may have left the session's copies stale.
    """
    if not order_ids:
        return
    loaded: dict[str, OrderFacts] = session.info.setdefault(_ORDERS, {})
    facts = {order_id: OrderFacts(order_id) for order_id in order_ids}
    orders = await session.exec(
        select(ShippedOrder)
        .where(one_of(session, col(ShippedOrder.order_id), order_ids))
        .order_by(col(ShippedOrder.order_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for order in orders.all():
        facts[order.order_id].order = order
    known = [order_id for order_id, fact in facts.items() if fact.order is not None]
    if known:
        items = await session.exec(
            select(ShippedItem)
            .where(one_of(session, col(ShippedItem.order_id), known))
            .execution_options(populate_existing=True)
        )
        for item in items.all():
            facts[item.order_id].items[item.sku] = item
        shipments = await session.exec(
            select(ShipmentSeen)
            .where(one_of(session, col(ShipmentSeen.order_id), known))
            .execution_options(populate_existing=True)
        )
        for shipment in shipments.all():
            facts[shipment.order_id].shipments[shipment.shipment_id] = shipment
    loaded.update(facts)


async def order_facts(session: AsyncSession, order_id: str) -> OrderFacts:
    """The order as this transaction knows it, from memory once loaded (locked) here."""
    loaded: dict[str, OrderFacts] = session.info.get(_ORDERS, {})
    if order_id not in loaded:
        await load_orders(session, {order_id})
    facts: OrderFacts = session.info[_ORDERS][order_id]
    return facts


# A new row is staged as its object's own attributes (`vars`), which the bulk insert reads when
# the transaction ends: what later messages of the batch set on the row goes in with it, and no
# ORM object is built and flushed for it. A row is added only once its order is loaded and found
# without it. When the kit redoes a batch message by message, each message's savepoint writes
# what it staged, and the next message loads its order afresh (`load_orders` starts new facts).


def add_order(session: AsyncSession, facts: OrderFacts, *, at: datetime) -> NewOrder:
    row = facts.new_order = NewOrder(order_id=facts.order_id, updated_at=at)
    staged.stage(session, SHIPPED_ORDER, vars(row))
    return row


def add_item(
    session: AsyncSession, facts: OrderFacts, sku: str, *, window_from: datetime, delivered: bool
) -> NewItem:
    row = NewItem(
        order_id=facts.order_id,
        sku=sku,
        window_from=window_from,
        window_from_delivery=delivered,
    )
    facts.new_items[sku] = row
    staged.stage(session, SHIPPED_ITEM, vars(row))
    return row


def add_shipment(session: AsyncSession, facts: OrderFacts, shipment_id: str) -> NewShipment:
    row = NewShipment(shipment_id=shipment_id, order_id=facts.order_id)
    facts.new_shipments[shipment_id] = row
    staged.stage(session, SHIPMENT_SEEN, vars(row))
    return row
