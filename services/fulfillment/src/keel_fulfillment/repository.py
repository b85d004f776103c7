"""Every fulfillment query lives here."""

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_fulfillment.models import Shipment, ShipmentLine, WarehouseEvent
from keel_kit import cursors, staged

# session.info: the shipments of the orders this transaction has locked, by order id. Kept here
# (the session's identity map holds objects only weakly) so a batch asks the database once.
_LOCKED = "keel_fulfillment.locked_shipments"


async def lock_shipments_of(session: AsyncSession, order_ids: set[str]) -> None:
    """Load and lock the shipments of many orders in one query, in a stable order so that two
    replicas locking overlapping batches cannot deadlock; read afresh (a rolled-back savepoint
    may have left the session's copies stale)."""
    if not order_ids:
        return
    query = (
        select(Shipment)
        .where(col(Shipment.order_id).in_(order_ids))
        .order_by(col(Shipment.order_id), col(Shipment.location_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    locked: dict[str, list[Shipment]] = session.info.setdefault(_LOCKED, {})
    for order_id in order_ids:
        locked[order_id] = []
    for shipment in (await session.exec(query)).all():
        locked[shipment.order_id].append(shipment)


async def shipments_for_order(
    session: AsyncSession, order_id: str, *, lock: bool = False
) -> Sequence[Shipment]:
    locked: dict[str, list[Shipment]] = session.info.get(_LOCKED, {})
    if lock and order_id in locked:
        return locked[order_id]
    query = (
        select(Shipment).where(Shipment.order_id == order_id).order_by(col(Shipment.location_id))
    )
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).all()


def add_shipment(session: AsyncSession, shipment: Shipment) -> None:
    """A new shipment, also seen by later messages of the batch that locked its order."""
    session.add(shipment)
    locked: dict[str, list[Shipment]] = session.info.get(_LOCKED, {})
    if shipment.order_id in locked:
        locked[shipment.order_id].append(shipment)


async def lock_shipments(
    session: AsyncSession, shipment_ids: Collection[str]
) -> dict[str, Shipment]:
    """Load and lock many shipments in one query, by id. They are locked in the order
    `lock_shipments_of` locks them (order, then location), so a batch of warehouse events and a
    consumer's batch locking overlapping shipments cannot deadlock."""
    if not shipment_ids:
        return {}
    query = (
        select(Shipment)
        .where(col(Shipment.shipment_id).in_(shipment_ids))
        .order_by(col(Shipment.order_id), col(Shipment.location_id))
        .with_for_update()
    )
    return {shipment.shipment_id: shipment for shipment in (await session.exec(query)).all()}


async def lines(session: AsyncSession, shipment_ids: Sequence[str]) -> Sequence[ShipmentLine]:
    query = (
        select(ShipmentLine)
        .where(col(ShipmentLine.shipment_id).in_(shipment_ids))
        .order_by(col(ShipmentLine.shipment_id), col(ShipmentLine.sku))
    )
    return (await session.exec(query)).all()


async def warehouse_events(
    session: AsyncSession, event_ids: Collection[str]
) -> dict[str, WarehouseEvent]:
    """The warehouse events already applied among `event_ids`, by id, in one query."""
    if not event_ids:
        return {}
    query = select(WarehouseEvent).where(col(WarehouseEvent.event_id).in_(event_ids))
    return {event.event_id: event for event in (await session.exec(query)).all()}


def add_warehouse_event(session: AsyncSession, event: WarehouseEvent) -> None:
    """Remember an applied event. Staged (written in one INSERT with the rest of the unit of
    work's): nothing reads it back in the transaction that applies it."""
    table = SQLModel.metadata.tables[str(WarehouseEvent.__tablename__)]
    staged.stage(session, table, event.model_dump())


async def location_queue(
    session: AsyncSession,
    *,
    location_id: str,
    statuses: Collection[str],
    after: tuple[datetime, str] | None,
    limit: int,
) -> Sequence[Shipment]:
    """A location's shipments in the given statuses, oldest first (the pick order), from after
    the (created_at, shipment id) position `after`."""
    query = select(Shipment).where(
        Shipment.location_id == location_id, col(Shipment.status).in_(statuses)
    )
    if after is not None:
        query = query.where(
            cursors.after(col(Shipment.created_at), col(Shipment.shipment_id), after)
        )
    query = query.order_by(col(Shipment.created_at), col(Shipment.shipment_id)).limit(limit)
    return (await session.exec(query)).all()
