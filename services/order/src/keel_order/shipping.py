"""The order saga after release: shipments leave and arrive, payment is captured (DESIGN §2)."""

from keel_contracts import Envelope
from keel_contracts.commands import CapturePayment
from keel_contracts.events import (
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentShipped,
)
from keel_contracts.values import Money
from keel_order import domain, lifecycle, repository
from keel_order.context import Work
from keel_order.domain import ShipmentStatus, Status
from keel_order.models import Order, OrderShipment


async def on_shipment_created(*, uow: Work, event: ShipmentCreated) -> None:
    order = await repository.get_order(uow.session, event.order_id, lock=True)
    if order is not None:
        _shipment_status(uow, order, event.shipment_id, ShipmentStatus.CREATED, event.location_id)


async def on_shipment_shipped(*, uow: Work, event: ShipmentShipped, cause: Envelope) -> None:
    """Count the shipped units; once every unit has left, capture the whole payment."""
    session = uow.session
    order = await repository.get_order(session, event.order_id, lock=True)
    if order is None:
        return
    _shipment_status(uow, order, event.shipment_id, ShipmentStatus.SHIPPED, event.location_id)
    shipped = {line.sku: line.quantity for line in event.lines}
    for line in order.lines:
        take = min(line.quantity - line.shipped, shipped.get(line.sku, 0))
        line.shipped += take
        shipped[line.sku] = shipped.get(line.sku, 0) - take
    complete = all(line.shipped >= line.quantity for line in order.lines)
    status = Status(order.status)
    if complete and status in (Status.RELEASED, Status.PARTIALLY_SHIPPED):
        lifecycle.move(
            uow,
            order,
            Status.SHIPPED,
            f"shipment {event.shipment_id} left with {event.carrier} {event.tracking_number}",
        )
        uow.outbox.add(
            session,
            CapturePayment(
                order_id=order.order_id,
                amount=Money(amount=order.total, currency=order.currency),
                goods=Money(amount=order.goods_total, currency=order.currency),
                shipping=Money(amount=order.shipping_amount, currency=order.currency),
            ),
            key=order.order_id,
            causation=cause,
        )
    elif not complete and status == Status.RELEASED:
        lifecycle.move(
            uow,
            order,
            Status.PARTIALLY_SHIPPED,
            f"shipment {event.shipment_id} left; more to follow",
        )


async def on_shipment_delivered(*, uow: Work, event: ShipmentDelivered) -> None:
    order = await repository.get_order(uow.session, event.order_id, lock=True)
    if order is None:
        return
    _shipment_status(uow, order, event.shipment_id, ShipmentStatus.DELIVERED)
    still_open = [s for s in order.shipments if s.status not in domain.SHIPMENT_ENDED]
    if not still_open and Status(order.status) == Status.SHIPPED:
        lifecycle.move(uow, order, Status.DELIVERED, "every shipment delivered")


async def on_shipment_cancelled(*, uow: Work, event: ShipmentCancelled) -> None:
    order = await repository.get_order(uow.session, event.order_id, lock=True)
    if order is not None:
        _shipment_status(uow, order, event.shipment_id, ShipmentStatus.CANCELLED, event.location_id)


def _shipment_status(
    uow: Work,
    order: Order,
    shipment_id: str,
    status: ShipmentStatus,
    location_id: str | None = None,
) -> None:
    """Record where a shipment stands. Its events arrive in order (the topic is keyed by
    order), so the created event came first; one without it is only recorded if it says where."""
    shipment = next((s for s in order.shipments if s.shipment_id == shipment_id), None)
    if shipment is not None:
        shipment.status = status
    elif location_id is not None:
        shipment = OrderShipment(
            shipment_id=shipment_id, order_id=order.order_id, location_id=location_id, status=status
        )
        uow.session.add(shipment)
        order.shipments.append(shipment)  # the order's read-only view, for the batch's next events
