"""Moving an order between statuses, with its history, holds and compensations.

Shared by the intake (intake.py), the saga's reactions (saga.py, shipping.py) and the hold
resolutions (holds/service.py), so that every status change is recorded the same way and every
failure releases what the order holds.
"""

from datetime import datetime

from sqlalchemy.orm import object_session

from keel_contracts import Envelope
from keel_contracts.commands import ReleaseStock, ReserveStock, VoidPayment
from keel_contracts.events import (
    Allocation,
    OrderCancelled,
    OrderConfirmed,
    OrderRejected,
    OrderReleased,
)
from keel_contracts.values import Line
from keel_kit import staged
from keel_order import domain, repository
from keel_order.context import Work
from keel_order.domain import BackorderPolicy, PaymentState, Resolution, Status, StockState
from keel_order.models import Order, OrderEvent, OrderHold, core_table
from keel_order.notifications import service as notifications

# Where an order waits for its answers (and a person): it confirms from any of them.
WAITING = frozenset({Status.VALIDATING, Status.BACKORDERED, Status.ON_HOLD})


def move(uow: Work, order: Order, target: Status, reason: str) -> None:
    """Change the status (if the lifecycle allows it) and record why."""
    domain.check_transition(Status(order.status), target)
    now = uow.service.clock()
    order.status = target
    order.updated_at = now
    if target is Status.SHIPPED:
        uow.service.kpis.order_shipped(uow.session, order.created_at, now)
    history = {"order_id": order.order_id, "status": target.value, "reason": reason, "at": now}
    staged.stage(uow.session, core_table(OrderEvent), history)
    notifications.on_status(uow, order, target)


def open_hold(order: Order, hold: domain.Hold, *, now: datetime) -> None:
    """Open a hold on an order loaded in a session: its row goes into that session, and into
    the order's (read-only) view of its holds, for the rest of the unit of work to see."""
    session = object_session(order)
    if session is None:
        raise ValueError(f"order {order.order_id} is not in a session: its hold would be lost")
    row = new_hold(order.order_id, order.rule_set_version, hold, now=now)
    session.add(row)
    order.holds.append(row)


def new_hold(
    order_id: str, rule_set_version: str, hold: domain.Hold, *, now: datetime
) -> OrderHold:
    """The exception row for a hold opened `now`: its owner and due time follow from its type."""
    return OrderHold(
        order_id=order_id,
        type=hold.type,
        reason=hold.reason,
        reference=hold.reference,
        owner_role=domain.HOLD_OWNER[hold.type],
        rule_set_version=rule_set_version,
        opened_at=now,
        due_at=now + domain.HOLD_SLA[hold.type],
    )


def renew_hold(row: OrderHold, hold: domain.Hold, *, now: datetime) -> None:
    """An open hold told again, with news: its new reason, and the SLA counted from now."""
    row.reason = hold.reason
    row.due_at = now + domain.HOLD_SLA[hold.type]


def has_blocking_holds(order: Order) -> bool:
    """Whether an open hold stops the order; notices (domain.NOTICES) never do."""
    return any(h.resolved_at is None and h.type not in domain.NOTICES for h in order.holds)


def close_holds(
    order: Order,
    note: str,
    *,
    now: datetime,
    types: frozenset[domain.HoldType] | None = None,
    by: str = domain.SYSTEM,
) -> None:
    """Close the order's open holds (of `types`, if given) undecided: nothing is left to decide
    about them. `by` is who ended them: the system, or the person who cancelled the order."""
    for hold in order.holds:
        if hold.resolved_at is None and (types is None or hold.type in types):
            hold.resolved_at, hold.resolution = now, Resolution.CLOSED
            hold.resolution_note, hold.resolved_by = domain.cut(note), by


async def try_confirm(uow: Work, order: Order, *, cause: Envelope | None) -> None:
    """Confirm (and release) once stock is held, payment authorized and no hold stops it; ask
    for the stock again if its reservation expired while the order waited."""
    if Status(order.status) not in WAITING:
        return
    ready = order.payment_state == PaymentState.AUTHORIZED and not has_blocking_holds(order)
    if order.stock_state == StockState.EXPIRED and ready:
        await ask_for_stock(uow, order, cause=cause)
        return
    if order.stock_state != StockState.RESERVED or order.payment_state != PaymentState.AUTHORIZED:
        return
    if has_blocking_holds(order):
        return
    move(uow, order, Status.CONFIRMED, "stock reserved and payment authorized")
    uow.outbox.add(
        uow.session,
        OrderConfirmed(
            order_id=order.order_id,
            lines=tuple(Line(sku=line.sku, quantity=line.quantity) for line in order.lines),
        ),
        key=order.order_id,
        causation=cause,
    )
    channel = await repository.get_channel(uow.session, order.channel)
    if channel is not None and channel.release_delay_seconds == 0:
        release(uow, order, cause=cause)


async def ask_for_stock(uow: Work, order: Order, *, cause: Envelope | None) -> None:
    """Ask inventory to hold the order's lines again (its channel's backorder policy applies)."""
    channel = await repository.get_channel(uow.session, order.channel)
    backorder = channel is not None and channel.backorder_policy == BackorderPolicy.BACKORDER
    order.stock_state = StockState.PENDING
    uow.outbox.add(
        uow.session,
        ReserveStock(
            order_id=order.order_id,
            channel=order.channel,
            lines=tuple(Line(sku=line.sku, quantity=line.quantity) for line in order.lines),
            backorder=backorder,
        ),
        key=order.order_id,
        causation=cause,
    )


def release(uow: Work, order: Order, *, cause: Envelope | None) -> None:
    move(uow, order, Status.RELEASED, "released to fulfillment")
    uow.outbox.add(
        uow.session,
        OrderReleased(
            order_id=order.order_id,
            channel=order.channel,
            allocations=tuple(Allocation.model_validate(a) for a in order.allocations),
        ),
        key=order.order_id,
        causation=cause,
    )


def reject(uow: Work, order: Order, reason: str, *, cause: Envelope | None) -> None:
    move(uow, order, Status.REJECTED, reason)
    uow.outbox.add(
        uow.session,
        OrderRejected(order_id=order.order_id, reason=reason),
        key=order.order_id,
        causation=cause,
    )
    compensate(uow, order, reason, cause=cause)


def cancel(uow: Work, order: Order, reason: str, *, by: str, cause: Envelope | None) -> None:
    """Cancel for `by`, the person who asked: the holds the cancellation closes name them."""
    move(uow, order, Status.CANCELLED, reason)
    uow.outbox.add(
        uow.session,
        OrderCancelled(order_id=order.order_id, reason=reason),
        key=order.order_id,
        causation=cause,
    )
    compensate(uow, order, reason, by=by, cause=cause)


def compensate(
    uow: Work, order: Order, reason: str, *, by: str = domain.SYSTEM, cause: Envelope | None
) -> None:
    """Give back what the order may hold, and close its open holds (nobody has anything left
    to decide) in the name of `by`. Commands for one order share a partition, so these arrive
    after the reserve/authorize they undo; both services treat a repeat as a no-op."""
    close_holds(order, reason, now=uow.service.clock(), by=by)
    if order.stock_state != StockState.FAILED:
        uow.outbox.add(
            uow.session,
            ReleaseStock(order_id=order.order_id, reason=reason),
            key=order.order_id,
            causation=cause,
        )
    if order.payment_state != PaymentState.DECLINED:
        uow.outbox.add(
            uow.session,
            VoidPayment(order_id=order.order_id, reason=reason),
            key=order.order_id,
            causation=cause,
        )
