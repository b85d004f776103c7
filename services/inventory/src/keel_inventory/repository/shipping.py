"""What shipments need of their orders' reservations and of their items, read for a whole
batch at once.

A shipment takes what its order's reservation holds at its location off `reserved` and marks
the reservation committed. Asked one shipment at a time, that is three round trips a shipment,
each first writing out everything the batch has pending. So a batch reads its shipments'
reservations with what they hold in one query, under the stock-changes lock (so nothing else
changes them before it commits), keeps them in its `BatchWork`, and writes the commitments with
its other writes. Whatever in the batch writes a reservation makes it forget what it read of it
(`BatchWork.reservations_changed`); a reservation not read for the batch, or asked for inside a
savepoint, is read the old way.
"""

from collections.abc import Collection
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory import models
from keel_inventory.domain import COMMITTED, HELD
from keel_inventory.repository.batch import ALLOCATION, RESERVATION, batch_work, flush
from keel_inventory.repository.reservations import allocations_of, get_reservation, set_status

# Only a held or committed reservation holds stock for its order.
HOLDING = (HELD, COMMITTED)

_WITH_ALLOCATIONS = (
    select(
        RESERVATION.c.order_id,
        RESERVATION.c.reservation_id,
        RESERVATION.c.status,
        RESERVATION.c.channel,
        ALLOCATION.c.location_id,
        ALLOCATION.c.sku,
        ALLOCATION.c.quantity,
    )
    .select_from(
        RESERVATION.outerjoin(
            ALLOCATION, ALLOCATION.c.reservation_id == RESERVATION.c.reservation_id
        )
    )
    .where(RESERVATION.c.order_id.in_(bindparam("orders", expanding=True)))
    .order_by(RESERVATION.c.order_id, ALLOCATION.c.sku, ALLOCATION.c.location_id)
)


class ReservationToShip(NamedTuple):
    """An order's reservation as its shipments see it."""

    order_id: str
    reservation_id: str
    status: str
    channel: str
    # (location_id, sku, quantity) of what it holds; none unless held or committed.
    holds: tuple[tuple[str, str, int], ...]


async def load_reservations_to_ship(session: AsyncSession, order_ids: Collection[str]) -> None:
    """Read the reservations of a batch's shipped orders with what they hold, in one query.

    The caller holds the stock-changes lock: the rows are not locked themselves (the shipment
    never locked them), the lock keeps every other writer of reservations out until the commit.
    """
    work = await batch_work(session)
    wanted = sorted(set(order_ids) - work.to_ship.keys()) if work is not None else []
    if work is None or not wanted:
        return
    await flush(session)
    rows = await (await session.connection()).execute(_WITH_ALLOCATIONS, {"orders": wanted})
    found: dict[str, ReservationToShip | None] = dict.fromkeys(wanted)
    holds: dict[str, list[tuple[str, str, int]]] = {order_id: [] for order_id in wanted}
    for order_id, reservation_id, status, channel, location_id, sku, quantity in rows.all():
        found[order_id] = ReservationToShip(order_id, reservation_id, status, channel, ())
        if sku is not None and status in HOLDING:
            holds[order_id].append((location_id, sku, quantity))
    work.to_ship.update(
        (order_id, None if known is None else known._replace(holds=tuple(holds[order_id])))
        for order_id, known in found.items()
    )


async def reservation_to_ship(session: AsyncSession, order_id: str) -> ReservationToShip | None:
    """The order's reservation with what it holds (None if it has none): from the batch's
    memory when read there, else from the database (and then remembered by the batch)."""
    work = await batch_work(session)
    if work is not None and order_id in work.to_ship:
        return work.to_ship[order_id]
    row = await get_reservation(session, order_id)
    found = None
    if row is not None:
        holds: list[tuple[str, str, int]] = []
        if row.status in HOLDING:
            holds = (await allocations_of(session, [row.reservation_id]))[row.reservation_id]
        found = ReservationToShip(
            order_id, row.reservation_id, row.status, row.channel, tuple(holds)
        )
    if work is not None:
        work.to_ship[order_id] = found
    return found


async def commit_shipped(session: AsyncSession, reservation: ReservationToShip) -> None:
    """Mark the reservation committed: its order's stock has left. In a batch the status is
    written with the batch's other writes."""
    work = await batch_work(session)
    if work is None:
        await set_status(session, [reservation.reservation_id], COMMITTED)
        return
    work.committed[reservation.order_id] = reservation.reservation_id
    work.to_ship[reservation.order_id] = reservation._replace(status=COMMITTED)


async def load_items(session: AsyncSession, skus: Collection[str]) -> None:
    """Read a batch's items in one query; `get_item` then answers from memory (no message
    changes an item)."""
    work = await batch_work(session)
    wanted = sorted(set(skus) - work.items.keys()) if work is not None else []
    if work is None or not wanted:
        return
    rows = await session.exec(orm_select(models.Item).where(col(models.Item.sku).in_(wanted)))
    work.items.update((item.sku, item) for item in rows.all())
