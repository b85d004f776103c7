"""The order saga's reactions to what inventory and finance answer (DESIGN §2), and the two
periodic jobs that move orders no answer moves.

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
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from keel_order import domain, lifecycle, repository
from keel_order.context import Work
from keel_order.domain import HoldType, PaymentState, Status, StockState
from keel_order.models import Order

SUPPLIER_DELAY = frozenset({HoldType.SUPPLIER_DELAY})
# The periodic jobs move at most this many orders a run; the next run takes the rest.
ORDERS_PER_RUN = 500


async def _open_order(session: AsyncSession, order_id: str) -> Order | None:
    order = await repository.get_order(session, order_id, lock=True)
    if order is None or Status(order.status) in domain.FINAL:
        return None
    return order


async def on_stock_reserved(*, uow: Work, event: StockReserved, cause: Envelope) -> None:
    order = await _open_order(uow.session, event.order_id)
    if order is None:
        return
    _count_first_stock_answer(uow, order, reserved=True)
    order.stock_state = StockState.RESERVED
    order.reservation_id = event.reservation_id
    order.allocations = [a.model_dump(mode="json") for a in event.allocations]
    reserved: dict[str, int] = {}
    for allocation in event.allocations:
        reserved[allocation.sku] = reserved.get(allocation.sku, 0) + allocation.quantity
    for line in order.lines:
        line.reserved = min(line.quantity, reserved.get(line.sku, 0))
        reserved[line.sku] = reserved.get(line.sku, 0) - line.reserved
    # A supplier's delay is old news once the stock is here: nobody needs to warn the customer.
    lifecycle.close_holds(
        order, "the stock arrived and is reserved", now=uow.service.clock(), types=SUPPLIER_DELAY
    )
    await lifecycle.try_confirm(uow, order, cause=cause)


async def on_reservation_failed(
    *, uow: Work, event: StockReservationFailed, cause: Envelope
) -> None:
    order = await _open_order(uow.session, event.order_id)
    if order is None:
        return
    _count_first_stock_answer(uow, order, reserved=False)
    short = ", ".join(f"{line.quantity} x {line.sku}" for line in event.short_lines)
    if not event.waiting:
        order.stock_state = StockState.FAILED
        lifecycle.reject(uow, order, f"out of stock: {short}", cause=cause)
        return
    order.stock_state = StockState.WAITING
    order.promised_date = event.promise_date
    if Status(order.status) == Status.VALIDATING:
        lifecycle.move(uow, order, Status.BACKORDERED, f"waiting for stock: {short}")


def _count_first_stock_answer(uow: Work, order: Order, *, reserved: bool) -> None:
    """The fill rate counts each order once, by inventory's first answer about it."""
    if order.stock_state == StockState.PENDING:
        units = sum(line.quantity for line in order.lines)
        uow.service.kpis.first_stock_answer(uow.session, units, reserved=reserved)


async def on_stock_released(*, uow: Work, event: StockReleased, cause: Envelope) -> None:
    """The order's reservation expired while it waited (validation slow, a person deciding a
    hold): the stock went back to sellable, so the order holds nothing and cannot ship what
    someone else may buy. It asks again once it may go on; at once if it was confirmed.
    A release the order asked for itself (cancelled, rejected) needs nothing more."""
    if not event.expired:
        return
    order = await _open_order(uow.session, event.order_id)
    if order is None or order.reservation_id != event.reservation_id:
        return
    # Released orders are the warehouses' now: their holds no longer expire.
    not_released = lifecycle.WAITING | {Status.CONFIRMED}
    if order.stock_state != StockState.RESERVED or Status(order.status) not in not_released:
        return
    order.stock_state = StockState.EXPIRED
    order.allocations = []
    for line in order.lines:
        line.reserved = 0
    if Status(order.status) == Status.CONFIRMED:
        reason = "its reservation expired before release; asking for the stock again"
        lifecycle.move(uow, order, Status.VALIDATING, reason)
    await lifecycle.try_confirm(uow, order, cause=cause)


async def on_payment_authorized(*, uow: Work, event: PaymentAuthorized, cause: Envelope) -> None:
    order = await _open_order(uow.session, event.order_id)
    if order is None:
        return
    order.payment_state = PaymentState.AUTHORIZED
    await lifecycle.try_confirm(uow, order, cause=cause)


async def on_payment_declined(*, uow: Work, event: PaymentDeclined, cause: Envelope) -> None:
    order = await _open_order(uow.session, event.order_id)
    if order is None:
        return
    order.payment_state = PaymentState.DECLINED
    lifecycle.reject(uow, order, f"payment declined: {event.reason}", cause=cause)


async def on_payment_held(*, uow: Work, event: PaymentHeld) -> None:
    order = await _open_order(uow.session, event.order_id)
    if order is None:
        return
    order.payment_state = PaymentState.HELD
    hold = domain.Hold(HoldType.PAYMENT_HOLD, event.reason)
    lifecycle.open_hold(order, hold, now=uow.service.clock())
    if Status(order.status) in (Status.VALIDATING, Status.BACKORDERED):
        lifecycle.move(uow, order, Status.ON_HOLD, f"payment review: {event.reason}")


async def release_delayed(work: Work) -> None:
    """Release confirmed orders whose channel's release delay has passed (a periodic job).

    Asked per channel, so orders on a long-delay channel never stand in front of a short one's.
    (The comparison is left to the database: SQLite gives back times without their zone.)
    """
    now = work.service.clock()
    for channel in await repository.list_channels(work.session):
        due = now - timedelta(seconds=channel.release_delay_seconds)
        for order in await repository.orders_in_status(
            work.session,
            Status.CONFIRMED,
            updated_before=due,
            limit=ORDERS_PER_RUN,
            channel=channel.channel_id,
        ):
            lifecycle.release(work, order, cause=None)


async def hold_stuck_validations(work: Work) -> None:
    """An order whose answers never came is put in front of a person instead of waiting on
    (a periodic job; the patience is the context's `validation_timeout`)."""
    patience = work.service.validation_timeout
    now = work.service.clock()
    for order in await repository.orders_in_status(
        work.session, Status.VALIDATING, updated_before=now - patience, limit=ORDERS_PER_RUN
    ):
        unanswered = (
            ("stock", order.stock_state == StockState.PENDING),
            ("payment", order.payment_state == PaymentState.PENDING),
        )
        waiting_for = [name for name, pending in unanswered if pending]
        reason = f"no answer from {' and '.join(waiting_for) or 'validation'} in {patience}"
        lifecycle.open_hold(order, domain.Hold(HoldType.VALIDATION_TIMEOUT, reason), now=now)
        lifecycle.move(work, order, Status.ON_HOLD, reason)
