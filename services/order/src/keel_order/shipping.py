"""The order saga after release: shipments leave and arrive, payment is captured (DESIGN §2)."""

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope
from keel_contracts.commands import CapturePayment
from keel_contracts.events import (
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentShipped,
)
from keel_contracts.values import Money
from keel_kit.outbox import Outbox
from keel_order import lifecycle, repository
from keel_order.domain import Status
from keel_order.models import OrderShipment


async def on_shipment_created(session: AsyncSession, event: ShipmentCreated) -> None:
    if await session.get(OrderShipment, event.shipment_id) is None:
        session.add(
            OrderShipment(
                shipment_id=event.shipment_id,
                order_id=event.order_id,
                location_id=event.location_id,
                status="created",
            )
        )


async def on_shipment_shipped(
    session: AsyncSession, outbox: Outbox, event: ShipmentShipped, cause: Envelope
) -> None:
    """Count the shipped units; once every unit has left, capture the whole payment."""
    order = await repository.get_order(session, event.order_id, lock=True)
    if order is None:
        return
    await _set_shipment_status(
        session, event.shipment_id, event.order_id, event.location_id, "shipped"
    )
    shipped = {line.sku: line.quantity for line in event.lines}
    lines = await repository.lines(session, order.order_id)
    for line in lines:
        take = min(line.quantity - line.shipped, shipped.get(line.sku, 0))
        line.shipped += take
        shipped[line.sku] = shipped.get(line.sku, 0) - take
        session.add(line)
    complete = all(line.shipped >= line.quantity for line in lines)
    status = Status(order.status)
    if complete and status in (Status.RELEASED, Status.PARTIALLY_SHIPPED):
        lifecycle.move(
            session,
            order,
            Status.SHIPPED,
            f"shipment {event.shipment_id} left with {event.carrier} {event.tracking_number}",
        )
        outbox.add(
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
            session,
            order,
            Status.PARTIALLY_SHIPPED,
            f"shipment {event.shipment_id} left; more to follow",
        )


async def on_shipment_delivered(session: AsyncSession, event: ShipmentDelivered) -> None:
    order = await repository.get_order(session, event.order_id, lock=True)
    if order is None:
        return
    shipment = await session.get(OrderShipment, event.shipment_id)
    if shipment is not None:
        shipment.status = "delivered"
        session.add(shipment)
    await session.flush()
    open_shipments = [
        s
        for s in await repository.shipments(session, order.order_id)
        if s.status not in ("delivered", "cancelled")
    ]
    if not open_shipments and Status(order.status) == Status.SHIPPED:
        lifecycle.move(session, order, Status.DELIVERED, "every shipment delivered")


async def on_shipment_cancelled(session: AsyncSession, event: ShipmentCancelled) -> None:
    await _set_shipment_status(
        session, event.shipment_id, event.order_id, event.location_id, "cancelled"
    )


async def _set_shipment_status(
    session: AsyncSession, shipment_id: str, order_id: str, location_id: str, status: str
) -> None:
    shipment = await session.get(OrderShipment, shipment_id)
    if shipment is None:  # the created event may trail on another partition's batch
        shipment = OrderShipment(
            shipment_id=shipment_id, order_id=order_id, location_id=location_id, status=status
        )
    shipment.status = status
    session.add(shipment)
