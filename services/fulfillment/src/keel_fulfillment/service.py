"""Fulfillment use cases: plan shipments for released orders, cancel them, show the queues
(warehouse events are `warehouse_events`)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import (
    OrderCancelled,
    OrderReleased,
    ShipmentCancelled,
    ShipmentCreated,
)
from keel_contracts.times import as_utc
from keel_contracts.values import Line
from keel_fulfillment import domain, repository
from keel_fulfillment.context import Work
from keel_fulfillment.domain import ShipmentStatus
from keel_fulfillment.models import Shipment
from keel_fulfillment.schemas import (
    ShipmentLinePublic,
    ShipmentPublic,
    ShipmentsPage,
)
from keel_kit import cursors

# A location's queue shows one status, or `open`: every shipment still to pick, pack or ship.
QueueStatus = Literal["open", "created", "picked", "packed", "shipped", "delivered", "cancelled"]
SHIPMENT_ID_LENGTH = 36


async def plan_shipments(*, uow: Work, event: OrderReleased, cause: Envelope) -> None:
    """One shipment per location holding part of the order; a repeat plans nothing new."""
    session, outbox = uow.session, uow.outbox
    if await repository.shipments_for_order(session, event.order_id, lock=True):
        return
    for location_id, quantities in domain.plan(event.allocations).items():
        shipment_id = str(new_event_id())
        repository.add_shipment(
            session,
            shipment_id=shipment_id,
            order_id=event.order_id,
            location_id=location_id,
            status=ShipmentStatus.CREATED,
            lines=quantities,
        )
        outbox.add(
            session,
            ShipmentCreated(
                shipment_id=shipment_id,
                order_id=event.order_id,
                location_id=location_id,
                lines=tuple(Line(sku=s, quantity=q) for s, q in quantities.items()),
            ),
            key=event.order_id,
            causation=cause,
        )


async def cancel_shipments(*, uow: Work, event: OrderCancelled, cause: Envelope) -> None:
    session, outbox = uow.session, uow.outbox
    for shipment in await repository.shipments_for_order(session, event.order_id, lock=True):
        if ShipmentStatus(shipment.status) not in domain.OPEN:
            continue
        move_shipment(shipment, ShipmentStatus.CANCELLED, now=uow.service.clock())
        session.add(shipment)
        outbox.add(
            session,
            ShipmentCancelled(
                shipment_id=shipment.shipment_id,
                order_id=shipment.order_id,
                location_id=shipment.location_id,
                reason=event.reason,
            ),
            key=shipment.order_id,
            causation=cause,
        )


async def shipments(*, uow: Work, order_id: str) -> list[ShipmentPublic]:
    found = await repository.shipments_for_order(uow.session, order_id)
    return await _public(uow, found)


async def location_queue(
    *, uow: Work, location_id: str, status: QueueStatus, limit: int, cursor: str | None
) -> ShipmentsPage:
    """One page of a location's shipments in pick order (oldest first); `open` means those
    still to pick, pack or ship."""
    statuses = domain.OPEN if status == "open" else frozenset({ShipmentStatus(status)})
    found = await repository.location_queue(
        uow.session,
        location_id=location_id,
        statuses=statuses,
        after=_decode_cursor(cursor) if cursor is not None else None,
        limit=limit + 1,  # one more tells whether another page follows
    )
    items = await _public(uow, found[:limit])
    last = found[limit - 1] if len(found) > limit else None
    next_cursor = (
        cursors.encode_cursor([as_utc(last.created_at), last.shipment_id]) if last else None
    )
    return ShipmentsPage(items=items, next_cursor=next_cursor)


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    created_at, shipment_id = cursors.decode_cursor(cursor, parts=2)
    if not 0 < len(shipment_id) <= SHIPMENT_ID_LENGTH:
        raise cursors.not_a_cursor()
    return cursors.cursor_datetime(created_at), shipment_id


async def _public(uow: Work, found: Sequence[Shipment]) -> list[ShipmentPublic]:
    lines = await repository.lines(uow.session, [s.shipment_id for s in found])
    return [
        ShipmentPublic(
            shipment_id=s.shipment_id,
            order_id=s.order_id,
            location_id=s.location_id,
            status=s.status,
            carrier=s.carrier,
            tracking_number=s.tracking_number,
            created_at=s.created_at,
            next_events=domain.next_events(ShipmentStatus(s.status)),
            lines=[
                ShipmentLinePublic(sku=line.sku, quantity=line.quantity)
                for line in lines
                if line.shipment_id == s.shipment_id
            ],
        )
        for s in found
    ]


def move_shipment(shipment: Shipment, target: ShipmentStatus, *, now: datetime) -> None:
    """Move `shipment` on to `target`, or raise `IllegalShipmentEvent` leaving it as it was."""
    domain.check_next(ShipmentStatus(shipment.status), target)
    shipment.status = target
    shipment.updated_at = now
