"""Reservation and backorder-queue queries.

New reservations and their allocations join the batch's pending writes (see `batch`); every
other query here first writes out what is pending, so it reads and changes the real rows.
"""

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory import models
from keel_inventory.channel_rules import EVERY_SKU
from keel_inventory.domain import HELD, RESERVED
from keel_inventory.repository.batch import (
    ALLOCATION,
    BACKORDER,
    BACKORDER_LINE,
    MOVEMENT,
    RESERVATION,
    RULE,
    batch_work,
    flush,
)

_ORDER_STATE = select(
    select(RESERVATION.c.status)
    .where(RESERVATION.c.order_id == bindparam("order_id"))
    .scalar_subquery(),
    select(BACKORDER.c.id).where(BACKORDER.c.order_id == bindparam("order_id")).scalar_subquery(),
)
# A queued request's channel priority: its channel's default rule's (0 when it has none).
_CHANNEL_DEFAULT = and_(RULE.c.channel_id == BACKORDER.c.channel, RULE.c.sku == EVERY_SKU)
_channel_priority = func.coalesce(RULE.c.priority, 0)
# Where a page of the backorder queue ended: the last request's (priority, id).
QueuePosition = tuple[int, int]


class HeldRow(NamedTuple):
    reservation_id: str
    order_id: str
    status: str
    expires_at: datetime
    channel: str


class OrderState(NamedTuple):
    """What inventory already knows of an order: its reservation's status, its queue entry."""

    status: str | None
    backorder_id: int | None


class QueuedRequest(NamedTuple):
    backorder_id: int
    order_id: str
    channel: str
    lines: dict[str, int]
    priority: int = 0


async def order_state(session: AsyncSession, order_id: str) -> OrderState:
    """What is known of the order: one round trip (none if this batch just held it)."""
    work = await batch_work(session)
    if work is not None and order_id in work.new_orders:
        return OrderState(HELD, None)
    if work is not None and order_id in work.committed:
        await flush(session)  # its shipment's commitment, not yet written
    row = (await (await session.connection()).execute(_ORDER_STATE, {"order_id": order_id})).one()
    return OrderState(row[0], row[1])


async def order_state_unless_batched(session: AsyncSession, order_id: str) -> OrderState | None:
    """The order's state, or None when a batch need not ask before holding stock for it.

    In a batch the question costs a round trip per message, and the answer almost always is
    "never seen". So it is not asked: if the order was known after all, its new reservation
    row breaks the unique order id when the batch commits, and the kit redoes the batch message
    by message, where every order is looked up. A queued request of a newly held order leaves
    the queue when the batch's writes go out.
    """
    work = await batch_work(session)
    if work is None:
        return await order_state(session, order_id)
    if order_id in work.new_orders:
        return OrderState(HELD, None)
    return None


async def insert_reservations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """New reservations (dicts of every Reservation column), written with the batch."""
    if not rows:
        return
    work = await batch_work(session)
    if work is None:
        await (await session.connection()).execute(insert(RESERVATION), list(rows))
        return
    work.reservations.extend(rows)
    work.new_orders.update(row["order_id"] for row in rows)
    work.reservations_changed(orders=[row["order_id"] for row in rows])


async def insert_allocations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    work = await batch_work(session)
    if work is None:
        await (await session.connection()).execute(insert(ALLOCATION), list(rows))
        return
    work.allocations.extend(rows)


async def reservations_for_orders(
    session: AsyncSession, order_ids: Collection[str], *, lock: bool = False
) -> dict[str, HeldRow]:
    await flush(session)
    query = select(
        RESERVATION.c.reservation_id,
        RESERVATION.c.order_id,
        RESERVATION.c.status,
        RESERVATION.c.expires_at,
        RESERVATION.c.channel,
    ).where(RESERVATION.c.order_id.in_(list(order_ids)))
    if lock:
        query = query.with_for_update()
    rows = await (await session.connection()).execute(query)
    return {row[1]: HeldRow(*row) for row in rows.all()}


async def due_reservations(session: AsyncSession, now: datetime, limit: int) -> list[HeldRow]:
    """Held reservations past their expiry, oldest first; rows another transaction is
    releasing right now are skipped, not waited for."""
    await flush(session)
    rows = await (await session.connection()).execute(
        select(
            RESERVATION.c.reservation_id,
            RESERVATION.c.order_id,
            RESERVATION.c.status,
            RESERVATION.c.expires_at,
            RESERVATION.c.channel,
        )
        .where(RESERVATION.c.status == HELD, RESERVATION.c.expires_at <= now)
        .order_by(RESERVATION.c.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [HeldRow(*row) for row in rows.all()]


async def allocations_of(
    session: AsyncSession, reservation_ids: Collection[str]
) -> dict[str, list[tuple[str, str, int]]]:
    """(location_id, sku, quantity) per reservation, in a stable order."""
    await flush(session)
    rows = await (await session.connection()).execute(
        select(
            ALLOCATION.c.reservation_id,
            ALLOCATION.c.location_id,
            ALLOCATION.c.sku,
            ALLOCATION.c.quantity,
        )
        .where(ALLOCATION.c.reservation_id.in_(list(reservation_ids)))
        .order_by(ALLOCATION.c.reservation_id, ALLOCATION.c.sku, ALLOCATION.c.location_id)
    )
    found: dict[str, list[tuple[str, str, int]]] = {rid: [] for rid in reservation_ids}
    for rid, location_id, sku, quantity in rows.all():
        found[rid].append((location_id, sku, quantity))
    return found


async def rehold_reservations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Hold stock again under released or expired reservations (their old lines go)."""
    if not rows:
        return
    await flush(session)
    if (work := await batch_work(session)) is not None:
        work.reservations_changed(orders=[r["order_id"] for r in rows])
    connection = await session.connection()
    await connection.execute(
        delete(ALLOCATION).where(
            ALLOCATION.c.reservation_id.in_([r["reservation_id"] for r in rows])
        )
    )
    await connection.execute(
        update(RESERVATION)
        .where(RESERVATION.c.reservation_id == bindparam("rid"))
        .values(
            status=bindparam("status"),
            channel=bindparam("channel"),
            expires_at=bindparam("expires_at"),
        ),
        [
            {
                "rid": r["reservation_id"],
                "status": r["status"],
                "channel": r["channel"],
                "expires_at": r["expires_at"],
            }
            for r in rows
        ],
    )


async def set_status(session: AsyncSession, reservation_ids: Collection[str], status: str) -> None:
    await flush(session)
    if (work := await batch_work(session)) is not None:
        work.reservations_changed(reservation_ids=reservation_ids)
    await (await session.connection()).execute(
        update(RESERVATION)
        .where(RESERVATION.c.reservation_id.in_(list(reservation_ids)))
        .values(status=status)
    )


async def get_reservation(session: AsyncSession, order_id: str) -> models.Reservation | None:
    await flush(session)
    query = orm_select(models.Reservation).where(models.Reservation.order_id == order_id)
    return (await session.exec(query)).first()


# --- the backorder queue ---


async def queue_backorder(
    session: AsyncSession, *, order_id: str, channel: str, lines: dict[str, int], now: datetime
) -> None:
    await flush(session)
    connection = await session.connection()
    result = await connection.execute(
        insert(BACKORDER)
        .values(order_id=order_id, channel=channel, created_at=now)
        .returning(BACKORDER.c.id)
    )
    backorder_id = result.scalar_one()
    await connection.execute(
        insert(BACKORDER_LINE),
        [
            {"backorder_id": backorder_id, "sku": sku, "quantity": quantity}
            for sku, quantity in lines.items()
        ],
    )


async def queued_for_skus(
    session: AsyncSession, skus: Collection[str], *, after: QueuePosition | None, limit: int
) -> list[QueuedRequest]:
    """Queued requests that want any of `skus`, locked against other servers: those of channels
    of higher priority first, then the oldest first (paged from after `after`)."""
    await flush(session)
    connection = await session.connection()
    wanted = select(BACKORDER_LINE.c.backorder_id).where(BACKORDER_LINE.c.sku.in_(list(skus)))
    query = (
        select(BACKORDER.c.id, BACKORDER.c.order_id, BACKORDER.c.channel, _channel_priority)
        .select_from(BACKORDER.outerjoin(RULE, _CHANNEL_DEFAULT))
        .where(BACKORDER.c.id.in_(wanted))
        .order_by(_channel_priority.desc(), BACKORDER.c.id)
        .limit(limit)
        .with_for_update(of=BACKORDER)
    )
    if after is not None:
        priority, backorder_id = after
        query = query.where(
            or_(
                _channel_priority < priority,
                and_(_channel_priority == priority, BACKORDER.c.id > backorder_id),
            )
        )
    heads = (await connection.execute(query)).all()
    if not heads:
        return []
    lines: dict[int, dict[str, int]] = {bid: {} for bid, *_ in heads}
    rows = await connection.execute(
        select(BACKORDER_LINE.c.backorder_id, BACKORDER_LINE.c.sku, BACKORDER_LINE.c.quantity)
        .where(BACKORDER_LINE.c.backorder_id.in_(list(lines)))
        .order_by(BACKORDER_LINE.c.backorder_id, BACKORDER_LINE.c.sku)
    )
    for bid, sku, quantity in rows.all():
        lines[bid][sku] = quantity
    return [
        QueuedRequest(bid, order_id, channel, lines[bid], priority)
        for bid, order_id, channel, priority in heads
    ]


async def get_backorder(session: AsyncSession, order_id: str) -> models.Backorder | None:
    await flush(session)
    query = orm_select(models.Backorder).where(models.Backorder.order_id == order_id)
    return (await session.exec(query)).first()


async def lines_of_backorder(session: AsyncSession, backorder_id: int) -> dict[str, int]:
    rows = await session.exec(
        orm_select(models.BackorderLine.sku, models.BackorderLine.quantity)
        .where(models.BackorderLine.backorder_id == backorder_id)
        .order_by(col(models.BackorderLine.sku))
    )
    return dict(rows.all())


async def queued_units(session: AsyncSession, sku: str) -> int:
    """Units of `sku` the backorder queue waits for, every order in it together."""
    await flush(session)
    total = await session.exec(
        orm_select(func.sum(models.BackorderLine.quantity)).where(models.BackorderLine.sku == sku)
    )
    return int(total.one() or 0)


async def remove_backorders(session: AsyncSession, backorder_ids: Iterable[int]) -> None:
    ids = list(backorder_ids)
    if not ids:
        return
    await flush(session)
    connection = await session.connection()
    await connection.execute(delete(BACKORDER_LINE).where(BACKORDER_LINE.c.backorder_id.in_(ids)))
    await connection.execute(delete(BACKORDER).where(BACKORDER.c.id.in_(ids)))


async def extend_hold(session: AsyncSession, order_id: str, until: datetime) -> None:
    """Keep the order's held reservation until `until` (a released order waits for its ship)."""
    work = await batch_work(session)
    if work is not None:
        if order_id not in work.committed:  # a shipped order's reservation is held no more
            work.holds[order_id] = until
        return
    await (await session.connection()).execute(
        update(RESERVATION)
        .where(RESERVATION.c.order_id == order_id, RESERVATION.c.status == HELD)
        .values(expires_at=until)
    )


class ReservedHolding(NamedTuple):
    """What one reservation holds of one SKU at one location, by the ledger and by its lines."""

    reservation_id: str
    status: str | None  # None: the reserved movements name no reservation that exists
    sku: str
    location_id: str
    held: int  # its reserved-state movements, summed
    allocated: int  # its allocation line (0 when it has none there)
    shipped: int  # of the allocation line, the units that shipped (held no more)


async def reserved_holdings(session: AsyncSession) -> list[ReservedHolding]:
    """Every (reservation, SKU, location) that has reserved movements or an allocation line.

    Every reserved movement references the reservation it holds stock for, so the reserved
    balances split exactly into these holdings (a diagnostic: it reads the whole ledger).
    """
    await flush(session)
    connection = await session.connection()
    held = await connection.execute(
        select(
            MOVEMENT.c.reference,
            MOVEMENT.c.sku,
            MOVEMENT.c.location_id,
            func.sum(MOVEMENT.c.quantity),
        )
        .where(MOVEMENT.c.state == RESERVED)
        .group_by(MOVEMENT.c.reference, MOVEMENT.c.sku, MOVEMENT.c.location_id)
    )
    allocated = await connection.execute(
        select(
            ALLOCATION.c.reservation_id,
            ALLOCATION.c.sku,
            ALLOCATION.c.location_id,
            ALLOCATION.c.quantity,
            ALLOCATION.c.shipped,
        )
    )
    statuses = await connection.execute(select(RESERVATION.c.reservation_id, RESERVATION.c.status))
    status_of: dict[str, str] = {rid: status for rid, status in statuses.all()}
    holdings: dict[tuple[str, str, str], list[int]] = {}
    for reference, sku, location_id, quantity in held.all():
        holdings.setdefault((reference, sku, location_id), [0, 0, 0])[0] = int(quantity or 0)
    for reservation_id, sku, location_id, quantity, shipped in allocated.all():
        holdings.setdefault((reservation_id, sku, location_id), [0, 0, 0])[1:] = [
            quantity,
            shipped,
        ]
    return [
        ReservedHolding(rid, status_of.get(rid), sku, location_id, *amounts)
        for (rid, sku, location_id), amounts in sorted(holdings.items())
    ]
