"""The order saga's reactions to what inventory and finance answer (DESIGN §2).

Each reaction locks its order, so answers arriving together for one order on different
partitions (and replicas) apply one after the other. Answers for an order that has already
ended are ignored: its compensations were sent when it ended.
"""

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope
from keel_contracts.events import (
    PaymentAuthorized,
    PaymentDeclined,
    PaymentHeld,
    StockReservationFailed,
    StockReserved,
)
from keel_kit.outbox import Outbox
from keel_kit.tables import utcnow
from keel_order import domain, lifecycle, repository
from keel_order.domain import HoldType, Status
from keel_order.models import Order

SUPPLIER_DELAY = frozenset({HoldType.SUPPLIER_DELAY})


async def _open_order(session: AsyncSession, order_id: str) -> Order | None:
    order = await repository.get_order(session, order_id, lock=True)
    if order is None or Status(order.status) in domain.FINAL:
        return None
    return order


async def on_stock_reserved(
    session: AsyncSession, outbox: Outbox, event: StockReserved, cause: Envelope
) -> None:
    order = await _open_order(session, event.order_id)
    if order is None:
        return
    order.stock_state = "reserved"
    order.reservation_id = event.reservation_id
    order.allocations = [a.model_dump(mode="json") for a in event.allocations]
    reserved: dict[str, int] = {}
    for allocation in event.allocations:
        reserved[allocation.sku] = reserved.get(allocation.sku, 0) + allocation.quantity
    for line in order.lines:
        line.reserved = min(line.quantity, reserved.get(line.sku, 0))
        reserved[line.sku] = reserved.get(line.sku, 0) - line.reserved
        session.add(line)
    # A supplier's delay is old news once the stock is here: nobody needs to warn the customer.
    lifecycle.close_holds(order, "the stock arrived and is reserved", types=SUPPLIER_DELAY)
    session.add(order)
    await lifecycle.try_confirm(session, outbox, order, cause)


async def on_reservation_failed(
    session: AsyncSession, outbox: Outbox, event: StockReservationFailed, cause: Envelope
) -> None:
    order = await _open_order(session, event.order_id)
    if order is None:
        return
    short = ", ".join(f"{line.quantity} x {line.sku}" for line in event.short_lines)
    if not event.waiting:
        order.stock_state = "failed"
        lifecycle.reject(session, outbox, order, f"out of stock: {short}", cause)
        return
    order.stock_state = "waiting"
    session.add(order)
    if Status(order.status) == Status.VALIDATING:
        lifecycle.move(session, order, Status.BACKORDERED, f"waiting for stock: {short}")


async def on_payment_authorized(
    session: AsyncSession, outbox: Outbox, event: PaymentAuthorized, cause: Envelope
) -> None:
    order = await _open_order(session, event.order_id)
    if order is None:
        return
    order.payment_state = "authorized"
    session.add(order)
    await lifecycle.try_confirm(session, outbox, order, cause)


async def on_payment_declined(
    session: AsyncSession, outbox: Outbox, event: PaymentDeclined, cause: Envelope
) -> None:
    order = await _open_order(session, event.order_id)
    if order is None:
        return
    order.payment_state = "declined"
    lifecycle.reject(session, outbox, order, f"payment declined: {event.reason}", cause)


async def on_payment_held(
    session: AsyncSession, outbox: Outbox, event: PaymentHeld, cause: Envelope
) -> None:
    order = await _open_order(session, event.order_id)
    if order is None:
        return
    order.payment_state = "held"
    lifecycle.open_hold(order, domain.Hold(HoldType.PAYMENT_HOLD, event.reason))
    if Status(order.status) in (Status.VALIDATING, Status.BACKORDERED):
        lifecycle.move(session, order, Status.ON_HOLD, f"payment review: {event.reason}")
    session.add(order)


async def release_delayed(session: AsyncSession, outbox: Outbox) -> None:
    """Release confirmed orders whose channel's release delay has passed.

    Asked per channel, so orders on a long-delay channel never stand in front of a short one's.
    (The comparison is left to the database: SQLite gives back times without their zone.)
    """
    now = utcnow()
    for channel in await repository.list_channels(session):
        due = now - timedelta(seconds=channel.release_delay_seconds)
        for order in await repository.orders_in_status(
            session, Status.CONFIRMED, updated_before=due, limit=500, channel=channel.channel_id
        ):
            lifecycle.release(session, outbox, order, cause=None)


async def hold_stuck_validations(session: AsyncSession, patience: timedelta) -> None:
    """An order whose answers never came is put in front of a person instead of waiting on."""
    for order in await repository.orders_in_status(
        session, Status.VALIDATING, updated_before=utcnow() - patience, limit=500
    ):
        waiting_for = [
            name
            for name, state in (("stock", order.stock_state), ("payment", order.payment_state))
            if state == "pending"
        ]
        reason = f"no answer from {' and '.join(waiting_for) or 'validation'} in {patience}"
        lifecycle.open_hold(order, domain.Hold(HoldType.VALIDATION_TIMEOUT, reason))
        lifecycle.move(session, order, Status.ON_HOLD, reason)
