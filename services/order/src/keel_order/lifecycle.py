"""Moving an order between statuses, with its history, holds and compensations.

Shared by the intake (service.py) and the saga reactions (saga.py) so that every status change
is recorded the same way and every failure releases what the order holds.
"""

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope
from keel_contracts.commands import ReleaseStock, VoidPayment
from keel_contracts.events import (
    Allocation,
    OrderCancelled,
    OrderConfirmed,
    OrderRejected,
    OrderReleased,
)
from keel_contracts.values import Line
from keel_kit import staged
from keel_kit.outbox import Outbox
from keel_kit.tables import utcnow
from keel_order import domain, repository
from keel_order.domain import Status
from keel_order.models import Order, OrderEvent, OrderHold, core_table


def move(session: AsyncSession, order: Order, target: Status, reason: str) -> None:
    """Change the status (if the lifecycle allows it) and record why."""
    domain.check_transition(Status(order.status), target)
    order.status = target
    order.updated_at = utcnow()
    session.add(order)
    history = {"order_id": order.order_id, "status": target.value, "reason": reason, "at": utcnow()}
    staged.stage(session, core_table(OrderEvent), history)


def open_hold(order: Order, hold: domain.Hold) -> None:
    order.holds.append(new_hold(order.order_id, order.rule_set_version, hold))


def new_hold(order_id: str, rule_set_version: str, hold: domain.Hold) -> OrderHold:
    """The exception row for a hold: its owner and due time follow from its type."""
    opened_at = utcnow()
    return OrderHold(
        order_id=order_id,
        type=hold.type,
        reason=hold.reason,
        reference=hold.reference,
        owner_role=domain.HOLD_OWNER[hold.type],
        rule_set_version=rule_set_version,
        opened_at=opened_at,
        due_at=opened_at + domain.HOLD_SLA[hold.type],
    )


def renew_hold(row: OrderHold, hold: domain.Hold) -> None:
    """An open hold told again, with news: its new reason, and the SLA counted from now."""
    row.reason = hold.reason
    row.due_at = utcnow() + domain.HOLD_SLA[hold.type]


def has_blocking_holds(order: Order) -> bool:
    """Whether an open hold stops the order; notices (domain.NOTICES) never do."""
    return any(h.resolved_at is None and h.type not in domain.NOTICES for h in order.holds)


def close_holds(
    order: Order, note: str, *, types: frozenset[domain.HoldType] | None = None
) -> None:
    """Close the order's open holds (of `types`, if given): the system decided, not a person."""
    now = utcnow()
    for hold in order.holds:
        if hold.resolved_at is None and (types is None or hold.type in types):
            hold.resolved_at, hold.resolution = now, "closed"
            hold.resolution_note, hold.resolved_by = domain.cut(note), "system"


async def try_confirm(
    session: AsyncSession, outbox: Outbox, order: Order, cause: Envelope | None
) -> None:
    """Confirm (and release) once stock is held, payment authorized and no hold stops it."""
    waiting_states = {Status.VALIDATING, Status.BACKORDERED, Status.ON_HOLD}
    if Status(order.status) not in waiting_states:
        return
    if order.stock_state != "reserved" or order.payment_state != "authorized":
        return
    if has_blocking_holds(order):
        return
    move(session, order, Status.CONFIRMED, "stock reserved and payment authorized")
    outbox.add(
        session,
        OrderConfirmed(
            order_id=order.order_id,
            lines=tuple(Line(sku=line.sku, quantity=line.quantity) for line in order.lines),
        ),
        key=order.order_id,
        causation=cause,
    )
    channel = await repository.get_channel(session, order.channel)
    if channel is not None and channel.release_delay_seconds == 0:
        release(session, outbox, order, cause)


def release(session: AsyncSession, outbox: Outbox, order: Order, cause: Envelope | None) -> None:
    move(session, order, Status.RELEASED, "released to fulfillment")
    outbox.add(
        session,
        OrderReleased(
            order_id=order.order_id,
            channel=order.channel,
            allocations=tuple(Allocation.model_validate(a) for a in order.allocations),
        ),
        key=order.order_id,
        causation=cause,
    )


def reject(
    session: AsyncSession, outbox: Outbox, order: Order, reason: str, cause: Envelope | None
) -> None:
    move(session, order, Status.REJECTED, reason)
    outbox.add(
        session,
        OrderRejected(order_id=order.order_id, reason=reason),
        key=order.order_id,
        causation=cause,
    )
    compensate(session, outbox, order, reason, cause)


def cancel(
    session: AsyncSession, outbox: Outbox, order: Order, reason: str, cause: Envelope | None
) -> None:
    move(session, order, Status.CANCELLED, reason)
    outbox.add(
        session,
        OrderCancelled(order_id=order.order_id, reason=reason),
        key=order.order_id,
        causation=cause,
    )
    compensate(session, outbox, order, reason, cause)


def compensate(
    session: AsyncSession, outbox: Outbox, order: Order, reason: str, cause: Envelope | None
) -> None:
    """Give back what the order may hold, and close its open holds (nobody has anything left
    to decide). Commands for one order share a partition, so these arrive after the
    reserve/authorize they undo; both services treat a repeat as a no-op."""
    close_holds(order, reason)
    if order.stock_state != "failed":
        outbox.add(
            session,
            ReleaseStock(order_id=order.order_id, reason=reason),
            key=order.order_id,
            causation=cause,
        )
    if order.payment_state != "declined":
        outbox.add(
            session,
            VoidPayment(order_id=order.order_id, reason=reason),
            key=order.order_id,
            causation=cause,
        )
