"""Every returns query lives here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_returns.models import (
    ChannelReturnPolicy,
    Refund,
    ReturnAuthorization,
    ReturnGrade,
    ReturnLine,
    ReturnReceiptLine,
    ShipmentSeen,
    ShippedItem,
    ShippedOrder,
    SkuReturnPolicy,
)


@dataclass
class OrderFacts:
    """What this service knows of one order, loaded (and locked) once per transaction."""

    order_id: str
    order: ShippedOrder | None = None
    items: dict[str, ShippedItem] = field(default_factory=dict)
    shipments: dict[str, ShipmentSeen] = field(default_factory=dict)


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
        .where(col(ShippedOrder.order_id).in_(order_ids))
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
            .where(col(ShippedItem.order_id).in_(known))
            .execution_options(populate_existing=True)
        )
        for item in items.all():
            facts[item.order_id].items[item.sku] = item
        shipments = await session.exec(
            select(ShipmentSeen)
            .where(col(ShipmentSeen.order_id).in_(known))
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


async def sku_policies(session: AsyncSession, skus: set[str]) -> Sequence[SkuReturnPolicy]:
    query = select(SkuReturnPolicy).where(col(SkuReturnPolicy.sku).in_(skus))
    return (await session.exec(query)).all()


async def get_sku_policy(session: AsyncSession, sku: str) -> SkuReturnPolicy | None:
    return await session.get(SkuReturnPolicy, sku)


async def get_channel_policy(session: AsyncSession, channel: str) -> ChannelReturnPolicy | None:
    return await session.get(ChannelReturnPolicy, channel)


async def get_return(
    session: AsyncSession, return_id: str, *, fresh: bool = False
) -> ReturnAuthorization | None:
    """The return; `fresh` reads it again, for use after its order's row is locked."""
    options = {"populate_existing": True} if fresh else {}
    return await session.get(ReturnAuthorization, return_id, execution_options=options)


async def return_lines(session: AsyncSession, return_id: str) -> Sequence[ReturnLine]:
    query = (
        select(ReturnLine)
        .where(ReturnLine.return_id == return_id)
        .order_by(col(ReturnLine.line_no))
    )
    return (await session.exec(query)).all()


async def receipt_lines(session: AsyncSession, return_id: str) -> Sequence[ReturnReceiptLine]:
    query = (
        select(ReturnReceiptLine)
        .where(ReturnReceiptLine.return_id == return_id)
        .order_by(col(ReturnReceiptLine.sku))
    )
    return (await session.exec(query)).all()


async def grades(session: AsyncSession, return_id: str) -> Sequence[ReturnGrade]:
    query = (
        select(ReturnGrade)
        .where(ReturnGrade.return_id == return_id)
        .order_by(col(ReturnGrade.sku), col(ReturnGrade.grade))
    )
    return (await session.exec(query)).all()


async def graded_units_of_order(session: AsyncSession, order_id: str) -> dict[str, int]:
    """Units per SKU graded on all the order's returns (what has come back for good)."""
    query = (
        select(ReturnGrade.sku, func.sum(ReturnGrade.quantity))
        .join(ReturnAuthorization, col(ReturnAuthorization.return_id) == ReturnGrade.return_id)
        .where(ReturnAuthorization.order_id == order_id)
        .group_by(col(ReturnGrade.sku))
    )
    return {sku: int(total) for sku, total in (await session.exec(query)).all()}


async def refunds_of_return(session: AsyncSession, return_id: str) -> Sequence[Refund]:
    query = select(Refund).where(Refund.return_id == return_id).order_by(col(Refund.created_at))
    return (await session.exec(query)).all()


async def get_refund(session: AsyncSession, refund_id: str) -> Refund | None:
    return await session.get(Refund, refund_id)
