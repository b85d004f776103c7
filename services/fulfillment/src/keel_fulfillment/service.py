"""Fulfillment use cases: plan shipments for released orders, apply warehouse events."""

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import (
    OrderCancelled,
    OrderReleased,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentShipped,
)
from keel_contracts.times import as_utc
from keel_contracts.values import Line
from keel_fulfillment import domain, repository
from keel_fulfillment.context import Work
from keel_fulfillment.domain import ShipmentStatus
from keel_fulfillment.models import Shipment, ShipmentLine, WarehouseEvent
from keel_fulfillment.schemas import (
    EventAccepted,
    ShipmentLinePublic,
    ShipmentPublic,
    ShipmentsPage,
    WarehouseEventIn,
)
from keel_kit import cursors
from keel_kit.problems import Conflict, DomainError, NotFound

# A location's queue shows one status, or `open`: every shipment still to pick, pack or ship.
QueueStatus = Literal["open", "created", "picked", "packed", "shipped", "delivered", "cancelled"]
SHIPMENT_ID_LENGTH = 36


async def plan_shipments(*, uow: Work, event: OrderReleased, cause: Envelope) -> None:
    """One shipment per location holding part of the order; a repeat plans nothing new."""
    session, outbox = uow.session, uow.outbox
    if await repository.shipments_for_order(session, event.order_id, lock=True):
        return
    for location_id, quantities in domain.plan(event.allocations).items():
        shipment = Shipment(
            shipment_id=str(new_event_id()),
            order_id=event.order_id,
            location_id=location_id,
            status=ShipmentStatus.CREATED,
        )
        repository.add_shipment(session, shipment)
        session.add_all(
            ShipmentLine(shipment_id=shipment.shipment_id, sku=sku, quantity=quantity)
            for sku, quantity in quantities.items()
        )
        outbox.add(
            session,
            ShipmentCreated(
                shipment_id=shipment.shipment_id,
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
        _move(shipment, ShipmentStatus.CANCELLED, now=uow.service.clock())
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


async def record_warehouse_event(
    *, uow: Work, location_id: str, cmd: WarehouseEventIn, signed_by: str | None = None
) -> EventAccepted:
    """Apply a warehouse's event once; the same event id again changes nothing.

    `signed_by` is the location of the warehouse system that signed the request, if one did:
    another location's shipment is then not found, rather than named.
    """
    session, outbox = uow.session, uow.outbox
    seen = await repository.get_warehouse_event(session, cmd.event_id)
    if seen is not None:
        if (seen.shipment_id, seen.type, seen.location_id) != (
            cmd.shipment_id,
            cmd.type,
            location_id,
        ):
            raise Conflict(
                f"event {cmd.event_id} was already used for another event", field="event_id"
            )
        shipment = await repository.get_shipment(session, cmd.shipment_id)
        status = shipment.status if shipment else cmd.type
        return EventAccepted(
            event_id=cmd.event_id, shipment_id=cmd.shipment_id, status=status, duplicate=True
        )
    shipment = await repository.get_shipment(session, cmd.shipment_id)
    if shipment is None or signed_by not in (None, shipment.location_id):
        raise NotFound(f"no shipment {cmd.shipment_id}")
    if shipment.location_id != location_id:
        raise DomainError(
            f"shipment {cmd.shipment_id} ships from {shipment.location_id}", field="shipment_id"
        )
    target = ShipmentStatus(cmd.type)
    try:
        _move(shipment, target, now=uow.service.clock())
    except domain.IllegalShipmentEvent as error:
        raise Conflict(str(error), field="type") from error
    session.add(
        WarehouseEvent(
            event_id=cmd.event_id,
            location_id=location_id,
            shipment_id=shipment.shipment_id,
            type=cmd.type,
        )
    )
    if target == ShipmentStatus.SHIPPED:
        shipment.carrier, shipment.tracking_number = cmd.carrier, cmd.tracking_number
        lines = await repository.lines(session, [shipment.shipment_id])
        outbox.add(
            session,
            ShipmentShipped(
                shipment_id=shipment.shipment_id,
                order_id=shipment.order_id,
                location_id=shipment.location_id,
                lines=tuple(Line(sku=line.sku, quantity=line.quantity) for line in lines),
                carrier=cmd.carrier or "",
                tracking_number=cmd.tracking_number or "",
            ),
            key=shipment.order_id,
        )
    elif target == ShipmentStatus.DELIVERED:
        outbox.add(
            session,
            ShipmentDelivered(shipment_id=shipment.shipment_id, order_id=shipment.order_id),
            key=shipment.order_id,
        )
    session.add(shipment)
    return EventAccepted(
        event_id=cmd.event_id,
        shipment_id=shipment.shipment_id,
        status=shipment.status,
        duplicate=False,
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


def _move(shipment: Shipment, target: ShipmentStatus, *, now: datetime) -> None:
    domain.check_next(ShipmentStatus(shipment.status), target)
    shipment.status = target
    shipment.updated_at = now
