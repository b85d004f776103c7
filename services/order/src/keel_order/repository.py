"""Every order query lives here."""

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.replicas import ItemReplica
from keel_order.models import (
    Channel,
    Customer,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    OrderShipment,
)


async def get_channel(session: AsyncSession, channel_id: str) -> Channel | None:
    return await session.get(Channel, channel_id)


async def list_channels(session: AsyncSession) -> Sequence[Channel]:
    return (await session.exec(select(Channel).order_by(col(Channel.channel_id)))).all()


async def known_skus(session: AsyncSession, skus: set[str]) -> set[str]:
    rows = await session.exec(select(ItemReplica.sku).where(col(ItemReplica.sku).in_(skus)))
    return set(rows.all())


async def find_by_external_id(
    session: AsyncSession, channel: str, external_id: str
) -> Order | None:
    query = select(Order).where(Order.channel == channel, Order.external_id == external_id)
    return (await session.exec(query)).first()


async def get_customer(session: AsyncSession, customer_id: str) -> Customer | None:
    return await session.get(Customer, customer_id)


async def get_order(session: AsyncSession, order_id: str, *, lock: bool = False) -> Order | None:
    """Load an order; `lock` serialises saga steps for one order across replicas (PostgreSQL)."""
    return await session.get(Order, order_id, with_for_update=lock)


async def lines(session: AsyncSession, order_id: str) -> Sequence[OrderLine]:
    query = select(OrderLine).where(OrderLine.order_id == order_id).order_by(col(OrderLine.line_no))
    return (await session.exec(query)).all()


async def history(session: AsyncSession, order_id: str) -> Sequence[OrderEvent]:
    query = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(col(OrderEvent.id))
    return (await session.exec(query)).all()


async def holds(session: AsyncSession, order_id: str) -> Sequence[OrderHold]:
    query = select(OrderHold).where(OrderHold.order_id == order_id).order_by(col(OrderHold.id))
    return (await session.exec(query)).all()


async def orders_in_status(
    session: AsyncSession, status: str, *, updated_before: datetime, limit: int
) -> Sequence[Order]:
    query = (
        select(Order)
        .where(Order.status == status, col(Order.updated_at) < updated_before)
        .order_by(col(Order.updated_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.exec(query)).all()


async def shipments(session: AsyncSession, order_id: str) -> Sequence[OrderShipment]:
    query = select(OrderShipment).where(OrderShipment.order_id == order_id)
    return (await session.exec(query)).all()
