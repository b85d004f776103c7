"""What shipments need of their orders' reservations and of their items, read for a whole
batch at once.

A shipment takes what its order's reservation holds at its location off `reserved` and marks
the reservation committed. Asked one shipment at a time, that is three round trips a shipment,
each first writing out everything the batch has pending. So a batch reads its shipments'
reservations with what they hold in one query, under the stock-changes lock (so nothing else
changes them before it commits), keeps them in its `BatchWork`, and writes the commitments with
its other writes. Whatever in the batch writes a reservation makes it forget what it read of it
(`BatchWork.reservations_changed`); a reservation not read for the batch, or asked for inside a
savepoint, is read by the same query, alone.

What a reservation holds is its allocations less what its order's shipments took of them
(`shipped`): an order shipped in parts, or shipped more than it held, takes off `reserved` only
what it still held, never another order's units.
"""

from collections.abc import Collection, Sequence
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory import models
from keel_inventory.domain import COMMITTED, HELD
from keel_inventory.repository.batch import (
    ALLOCATION,
    RESERVATION,
    batch_work,
    flush,
    record_shipped,
)
from keel_inventory.repository.reservations import set_status

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
        ALLOCATION.c.quantity - ALLOCATION.c.shipped,
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
    # (location_id, sku, quantity) of what it still holds (its allocations, less what shipped
    # of them); none unless held or committed.
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
    work.to_ship.update(await _read_to_ship(session, wanted))


async def reservation_to_ship(session: AsyncSession, order_id: str) -> ReservationToShip | None:
    """The order's reservation with what it holds (None if it has none): from the batch's
    memory when read there, else from the database (and then remembered by the batch)."""
    work = await batch_work(session)
    if work is not None and order_id in work.to_ship:
        return work.to_ship[order_id]
    found = (await _read_to_ship(session, [order_id]))[order_id]
    if work is not None:
        work.to_ship[order_id] = found
    return found


async def _read_to_ship(
    session: AsyncSession, order_ids: list[str]
) -> dict[str, ReservationToShip | None]:
    await flush(session)
    rows = await (await session.connection()).execute(_WITH_ALLOCATIONS, {"orders": order_ids})
    found: dict[str, ReservationToShip | None] = dict.fromkeys(order_ids)
    holds: dict[str, list[tuple[str, str, int]]] = {order_id: [] for order_id in order_ids}
    for order_id, reservation_id, status, channel, location_id, sku, held in rows.all():
        found[order_id] = ReservationToShip(order_id, reservation_id, status, channel, ())
        if sku is not None and status in HOLDING and held > 0:
            holds[order_id].append((location_id, sku, held))
    return {
        order_id: None if known is None else known._replace(holds=tuple(holds[order_id]))
        for order_id, known in found.items()
    }


async def commit_shipped(
    session: AsyncSession, reservation: ReservationToShip, shipped: Sequence[tuple[str, str, int]]
) -> None:
    """Mark the reservation committed: its order's stock has left. `shipped` are the units of
    its holds that left, (location_id, sku, quantity): it holds them no more, so a later
    shipment of the order takes only what is left off `reserved`. In a batch the writes go with
    the batch's other writes."""
    work = await batch_work(session)
    if work is None:
        await set_status(session, [reservation.reservation_id], COMMITTED)
        await record_shipped(session, reservation.reservation_id, shipped)
        return
    work.committed[reservation.order_id] = reservation.reservation_id
    taken: dict[tuple[str, str], int] = {}
    for location_id, sku, quantity in shipped:
        taken[(location_id, sku)] = taken.get((location_id, sku), 0) + quantity
        key = (reservation.reservation_id, sku, location_id)
        work.shipped[key] = work.shipped.get(key, 0) + quantity
    still_held = tuple(
        (location_id, sku, left)
        for location_id, sku, held in reservation.holds
        if (left := held - taken.get((location_id, sku), 0)) > 0
    )
    work.to_ship[reservation.order_id] = reservation._replace(status=COMMITTED, holds=still_held)


async def load_items(session: AsyncSession, skus: Collection[str]) -> None:
    """Read a batch's items in one query; `get_item` then answers from memory (no message
    changes an item)."""
    work = await batch_work(session)
    wanted = sorted(set(skus) - work.items.keys()) if work is not None else []
    if work is None or not wanted:
        return
    rows = await session.exec(orm_select(models.Item).where(col(models.Item.sku).in_(wanted)))
    work.items.update((item.sku, item) for item in rows.all())
