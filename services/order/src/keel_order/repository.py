"""Every order query lives here."""

from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, func, insert, tuple_
from sqlmodel import and_, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.db import one_of, upsert_insert
from keel_kit.replicas import ItemReplica
from keel_order.domain import TAKING_STOCK, Status, StockState
from keel_order.models import (
    Channel,
    Customer,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    core_table,
)


async def list_channels(session: AsyncSession) -> Sequence[Channel]:
    return (await session.exec(select(Channel).order_by(col(Channel.channel_id)))).all()


async def known_skus(session: AsyncSession, skus: set[str]) -> set[str]:
    rows = await session.exec(
        select(ItemReplica.sku).where(one_of(session, col(ItemReplica.sku), skus))
    )
    return set(rows.all())


# session.info keys: what this transaction has loaded for its batch, by id. The session's
# identity map holds objects only weakly, so without these a second look would query again.
_LOCKED_ORDERS = "keel_order.locked_orders"
_CHANNELS = "keel_order.channels"
# What the last `lock_orders` read: those orders, and the SKUs whose waiting orders it included.
_LAST_LOCKED = "keel_order.last_locked"
_WAITING_FOR = "keel_order.waiting_for"


async def unannounced_channels(session: AsyncSession) -> Sequence[Channel]:
    query = (
        select(Channel).where(col(Channel.announced).is_(False)).order_by(col(Channel.channel_id))
    )
    return (await session.exec(query.with_for_update(skip_locked=True))).all()


async def get_channel(session: AsyncSession, channel_id: str) -> Channel | None:
    """A channel, read at most once per transaction: batches ask for the same few again and
    again."""
    known: dict[str, Channel] = session.info.setdefault(_CHANNELS, {})
    if channel_id not in known:
        channel = await session.get(Channel, channel_id)
        if channel is None:
            return None
        known[channel_id] = channel
    return known[channel_id]


async def get_order(session: AsyncSession, order_id: str, *, lock: bool = False) -> Order | None:
    """Load an order; `lock` serialises saga steps for one order across replicas (PostgreSQL).

    An order `lock_orders` locked in this transaction comes from memory, without a query.
    """
    locked: dict[str, Order] = session.info.get(_LOCKED_ORDERS, {})
    if lock and order_id in locked:
        return locked[order_id]
    return await session.get(Order, order_id, with_for_update=lock)


async def lock_orders(
    session: AsyncSession, order_ids: Collection[str], *, waiting_for: Collection[str] = ()
) -> None:
    """Load and lock many orders (with their lines, holds, shipments and channels) at once:
    those of `order_ids`, and the orders waiting for stock of any of the SKUs `waiting_for`.

    One query, whose rows are locked in id order, so two replicas locking overlapping batches
    cannot deadlock; the rows are read afresh even if the session holds them, as a rolled-back
    savepoint may have left them stale.
    """
    session.info[_LAST_LOCKED] = []
    session.info[_WAITING_FOR] = frozenset(waiting_for)
    if not order_ids and not waiting_for:
        return
    wanted: ColumnElement[bool] = one_of(session, col(Order.order_id), order_ids)
    if waiting_for:
        with_the_skus = select(OrderLine.order_id).where(
            one_of(session, col(OrderLine.sku), waiting_for)
        )
        wanted = or_(wanted, and_(_waiting_for_stock(), col(Order.order_id).in_(with_the_skus)))
    query = (
        select(Order)
        .where(wanted)
        .order_by(col(Order.order_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    locked: dict[str, Order] = session.info.setdefault(_LOCKED_ORDERS, {})
    orders = (await session.exec(query)).all()
    locked.update((order.order_id, order) for order in orders)
    session.info[_LAST_LOCKED] = orders
    # Their channels too, now: read mid-batch, they would flush the batch's changes early.
    known: dict[str, Channel] = session.info.setdefault(_CHANNELS, {})
    missing = {order.channel for order in orders} - known.keys()
    if missing:
        known.update((await channels_by_id(session, missing)).items())


async def orders_waiting_for(session: AsyncSession, skus: set[str]) -> list[Order]:
    """The backordered orders still waiting for stock with a line for any of `skus`, locked,
    in id order.

    In a batch they come from memory: `lock_orders` read them with the batch's other orders
    (an order another message of the batch has backordered since is one of those, and is
    looked at as it is now). Asked for SKUs it did not cover, it reads them now.
    """
    covered: frozenset[str] = session.info.get(_WAITING_FOR, frozenset())
    if not skus <= covered:
        last: Sequence[Order] = session.info.get(_LAST_LOCKED, [])
        await lock_orders(session, {o.order_id for o in last}, waiting_for=covered | skus)
    return [
        order
        for order in session.info[_LAST_LOCKED]
        if order.status == Status.BACKORDERED
        and order.stock_state == StockState.WAITING
        and any(line.sku in skus for line in order.lines)
    ]


def _waiting_for_stock() -> ColumnElement[bool]:
    return and_(Order.status == Status.BACKORDERED, Order.stock_state == StockState.WAITING)


async def history(session: AsyncSession, order_id: str) -> Sequence[OrderEvent]:
    query = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(col(OrderEvent.id))
    return (await session.exec(query)).all()


async def holds(session: AsyncSession, order_id: str) -> Sequence[OrderHold]:
    query = select(OrderHold).where(OrderHold.order_id == order_id).order_by(col(OrderHold.id))
    return (await session.exec(query)).all()


async def orders_in_status(
    session: AsyncSession,
    status: str,
    *,
    updated_before: datetime,
    limit: int,
    channel: str | None = None,
) -> Sequence[Order]:
    """The oldest orders in `status` (of one channel, if given), locked; others' locks skipped."""
    query = select(Order).where(Order.status == status, col(Order.updated_at) < updated_before)
    if channel is not None:
        query = query.where(Order.channel == channel)
    query = query.order_by(col(Order.updated_at)).limit(limit).with_for_update(skip_locked=True)
    return (await session.exec(query)).all()


async def channels_by_id(session: AsyncSession, channel_ids: set[str]) -> dict[str, Channel]:
    query = select(Channel).where(one_of(session, col(Channel.channel_id), channel_ids))
    return {channel.channel_id: channel for channel in (await session.exec(query)).all()}


async def orders_by_external_id(
    session: AsyncSession, references: set[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """(channel, external id) -> order id, for those of `references` already ordered."""
    if not references:
        return {}
    # Channels and ids apart, each one array, not a row-value IN (which PostgreSQL answers
    # with an index scan per pair, OR-ed); a batch is of one channel or few, so the pairs
    # read but not asked for are few, and dropped here.
    query = select(Order.channel, Order.external_id, Order.order_id).where(
        one_of(session, col(Order.channel), {channel for channel, _ in references}),
        one_of(session, col(Order.external_id), {external for _, external in references}),
    )
    return {
        (channel, external): order
        for channel, external, order in await session.exec(query)
        if (channel, external) in references
    }


async def units_held(
    session: AsyncSession, customers: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(channel, customer id) -> the units its orders on that channel still hold or may take
    (lines' units not yet shipped, over orders in domain.TAKING_STOCK); absent means none."""
    if not customers:
        return {}
    units = func.sum(col(OrderLine.quantity) - col(OrderLine.shipped))
    query = (
        select(Order.channel, Order.customer_id, units)
        .join(OrderLine, col(OrderLine.order_id) == col(Order.order_id))
        .where(
            tuple_(col(Order.channel), col(Order.customer_id)).in_(customers),
            col(Order.status).in_([s.value for s in TAKING_STOCK]),
        )
        .group_by(col(Order.channel), col(Order.customer_id))
    )
    return {(channel, customer): int(held) for channel, customer, held in await session.exec(query)}


async def insert_new_orders(
    session: AsyncSession,
    *,
    customers: list[dict[str, Any]],
    orders: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    history: list[dict[str, Any]],
) -> None:
    """A batch's new customers, orders, lines and history, in bulk, parents first: the lines
    and history refer to their order."""
    if customers:
        # Two batches may bring the same new customer at once; the first one seen stays.
        first_seen = upsert_insert(session, core_table(Customer)).on_conflict_do_nothing()
        await session.exec(first_seen, params=customers)
    for model, values in ((Order, orders), (OrderLine, lines), (OrderEvent, history)):
        if values:
            await session.exec(insert(core_table(model)), params=values)


async def known_customers(session: AsyncSession, customer_ids: set[str]) -> set[str]:
    query = select(Customer.customer_id).where(
        one_of(session, col(Customer.customer_id), customer_ids)
    )
    return set((await session.exec(query)).all())


class OpenOrder(NamedTuple):
    """An order not yet in a final state, as the settlement check needs it."""

    order_id: str
    status: Status
    updated_at: datetime
    release_delay_seconds: int


class OpenHold(NamedTuple):
    order_id: str
    type: str
    due_at: datetime


async def open_orders(session: AsyncSession, final: Collection[Status]) -> list[OpenOrder]:
    """Every order whose status is not in `final`, with its channel's release delay."""
    rows = await session.exec(
        select(Order.order_id, Order.status, Order.updated_at, Channel.release_delay_seconds)
        .join(Channel, col(Channel.channel_id) == col(Order.channel))
        .where(col(Order.status).not_in([str(s) for s in final]))
        .order_by(col(Order.updated_at))
    )
    return [OpenOrder(oid, Status(status), at, delay) for oid, status, at, delay in rows.all()]


async def open_holds(session: AsyncSession) -> list[OpenHold]:
    """Every hold still open (notices included), oldest due first."""
    rows = await session.exec(
        select(OrderHold.order_id, OrderHold.type, OrderHold.due_at)
        .where(col(OrderHold.resolved_at).is_(None))
        .order_by(col(OrderHold.due_at))
    )
    return [OpenHold(*row) for row in rows.all()]


class EarnedOrder(NamedTuple):
    order_id: str
    currency: str
    total: Decimal


async def earned_orders(
    session: AsyncSession, earned: Collection[Status], *, cursor: str | None, limit: int
) -> list[EarnedOrder]:
    """Orders in an `earned` status, in order id order after `cursor`: a page of `limit`, and
    one more if there are more (so the caller knows whether to give out a next cursor)."""
    query = select(
        Order.order_id, Order.currency, col(Order.goods_total), col(Order.shipping_amount)
    ).where(col(Order.status).in_([str(s) for s in earned]))
    if cursor is not None:
        query = query.where(col(Order.order_id) > cursor)
    rows = await session.exec(query.order_by(col(Order.order_id)).limit(limit + 1))
    return [EarnedOrder(oid, currency, goods + shipping) for oid, currency, goods, shipping in rows]


async def search_orders(
    session: AsyncSession,
    *,
    external_id: str | None,
    customer_id: str | None,
    status: str | None,
    channel: str | None,
    before: str | None,
    limit: int,
) -> Sequence[Order]:
    """Orders matching every filter given, the newest first (order ids are UUIDv7s, which sort
    by time), from before the order id `before`."""
    query = select(Order)
    for column, value in (
        (Order.external_id, external_id),
        (Order.customer_id, customer_id),
        (Order.status, status),
        (Order.channel, channel),
    ):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        query = query.where(col(Order.order_id) < before)
    return (await session.exec(query.order_by(col(Order.order_id).desc()).limit(limit))).all()
