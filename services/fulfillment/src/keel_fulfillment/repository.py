"""Every fulfillment query lives here."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_fulfillment.domain import AppliedEvent
from keel_fulfillment.models import Shipment, ShipmentLine, WarehouseEvent
from keel_kit import cursors, staged
from keel_kit.db import one_of
from keel_kit.tables import utcnow

# The tables new rows are staged into (see `add_shipment`, `add_warehouse_event`).
SHIPMENT = SQLModel.metadata.tables[Shipment.__tablename__]
SHIPMENT_LINE = SQLModel.metadata.tables[ShipmentLine.__tablename__]
WAREHOUSE_EVENT = SQLModel.metadata.tables[WarehouseEvent.__tablename__]

# session.info: the shipments of the orders this transaction has locked, by order id. Kept here
# (the session's identity map holds objects only weakly) so a batch asks the database once.
_LOCKED = "keel_fulfillment.locked_shipments"


async def lock_shipments_of(session: AsyncSession, order_ids: set[str]) -> None:
    """Load and lock the shipments of many orders in one query, in a stable order so that two
    replicas locking overlapping batches cannot deadlock; read afresh (a rolled-back savepoint
    may have left the session's copies stale)."""
    if not order_ids:
        return
    if any(staged.pending(session, _planned(order_id)) for order_id in order_ids):
        await staged.write(session)
    query = (
        select(Shipment)
        .where(one_of(session, col(Shipment.order_id), order_ids))
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
    if staged.pending(session, _planned(order_id)):
        # Planned earlier in this transaction (a repeat, a cancellation in the same batch: rare):
        # its rows are staged, so write them and read them back as objects.
        await staged.write(session)
    elif lock and order_id in locked:
        return locked[order_id]
    query = (
        select(Shipment).where(Shipment.order_id == order_id).order_by(col(Shipment.location_id))
    )
    if lock:
        query = query.with_for_update()
    found = (await session.exec(query)).all()
    if lock:
        locked[order_id] = list(found)
    return found


def add_shipment(
    session: AsyncSession,
    *,
    shipment_id: str,
    order_id: str,
    location_id: str,
    status: str,
    lines: Mapping[str, int],
) -> None:
    """Stage a new shipment and its lines ({sku: quantity}) for the unit of work's bulk insert.

    As rows, not ORM objects: a batch's shipments then cost one statement per table. A later
    message of the same transaction asking for the order's shipments has them written first
    (`shipments_for_order`), so a repeat still finds them and a cancellation can change them.
    The shipment is staged before its lines, for their foreign key.
    """
    now = utcnow()
    staged.stage(
        session,
        SHIPMENT,
        {
            "shipment_id": shipment_id,
            "order_id": order_id,
            "location_id": location_id,
            "status": status,
            "carrier": None,
            "tracking_number": None,
            "created_at": now,
            "updated_at": now,
        },
        of=_planned(order_id),
    )
    for sku, quantity in lines.items():
        staged.stage(
            session, SHIPMENT_LINE, {"shipment_id": shipment_id, "sku": sku, "quantity": quantity}
        )
    # What the batch locked of the order (nothing) is out of date: it is read again when asked.
    session.info.get(_LOCKED, {}).pop(order_id, None)


def _planned(order_id: str) -> tuple[str, str]:
    return (SHIPMENT.name, order_id)


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
        .where(one_of(session, col(Shipment.shipment_id), shipment_ids))
        .order_by(col(Shipment.order_id), col(Shipment.location_id))
        .with_for_update()
    )
    return {shipment.shipment_id: shipment for shipment in (await session.exec(query)).all()}


async def lines(session: AsyncSession, shipment_ids: Sequence[str]) -> Sequence[ShipmentLine]:
    query = (
        select(ShipmentLine)
        .where(one_of(session, col(ShipmentLine.shipment_id), shipment_ids))
        .order_by(col(ShipmentLine.shipment_id), col(ShipmentLine.sku))
    )
    return (await session.exec(query)).all()


async def warehouse_events(
    session: AsyncSession, event_ids: Collection[str]
) -> dict[str, AppliedEvent]:
    """The warehouse events already applied among `event_ids`, by id, in one query."""
    if not event_ids:
        return {}
    query = select(
        WarehouseEvent.event_id,
        WarehouseEvent.shipment_id,
        WarehouseEvent.type,
        WarehouseEvent.location_id,
    ).where(one_of(session, col(WarehouseEvent.event_id), event_ids))
    return {
        event_id: AppliedEvent(shipment_id=shipment_id, type=type_, location_id=location_id)
        for event_id, shipment_id, type_, location_id in (await session.exec(query)).all()
    }


def add_warehouse_event(session: AsyncSession, event_id: str, event: AppliedEvent) -> None:
    """Remember an applied event. Staged (written in one INSERT with the rest of the unit of
    work's): nothing reads it back in the transaction that applies it."""
    staged.stage(
        session,
        WAREHOUSE_EVENT,
        {
            "event_id": event_id,
            "location_id": event.location_id,
            "shipment_id": event.shipment_id,
            "type": event.type,
            "received_at": utcnow(),
        },
    )


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
