"""The exception queue and hold resolution (DESIGN §2): a person decides, the saga resumes.

A hold is resolved once, by `release` or `reject`:

- `reject` rejects the order with its compensations (stock released, authorization voided); the
  order's other open holds close with it, since nothing is left to decide about them.
- `release` closes the hold; when it was the order's last open hold the saga resumes: confirmed
  (and released to fulfillment) if stock is held and the payment authorized, else back to
  waiting for stock (backordered) or for the remaining answers (validating).

A notice (a supplier_delay) never stopped the order, so releasing it only closes it, and an open
notice does not keep an order on hold once its last real hold is released; rejecting it still
rejects the order. The saga closes a supplier_delay itself when the stock arrives.

A payment hold is the payment provider's review, so its decision goes to finance
(payment.resolve_review); finance answers payment.authorized or payment.declined and the saga's
usual reactions carry on from there.
"""

from __future__ import annotations

from datetime import datetime

from keel_contracts.commands import ResolvePaymentReview
from keel_contracts.exception_queue import may_take_claim, may_work_on
from keel_contracts.roles import Role
from keel_contracts.times import as_utc
from keel_kit import audit, cursors
from keel_kit.access import ForbiddenActor, acting_person
from keel_kit.identity import Principal
from keel_kit.problems import Conflict, NotFound
from keel_order import domain, lifecycle, repository
from keel_order.context import Work
from keel_order.domain import (
    HoldState,
    HoldType,
    PaymentState,
    Resolution,
    Status,
    StockState,
)
from keel_order.holds import repository as holds_repository
from keel_order.holds.schemas import (
    ExceptionPublic,
    ExceptionsPage,
    HoldResolution,
    HoldResolve,
)
from keel_order.models import Order, OrderHold


async def exception_queue(
    *,
    uow: Work,
    status: HoldState,
    owner_role: Role | None,
    hold_type: HoldType | None,
    reference: str | None,
    limit: int,
    cursor: str | None,
    escalated_to: Role | None = None,
) -> ExceptionsPage:
    """One page of holds, the oldest due first; `next_cursor` continues after the last one."""
    after = decode_cursor(cursor) if cursor is not None else None
    rows = await holds_repository.exception_queue(
        uow.session,
        resolved=status == HoldState.RESOLVED,
        owner_role=owner_role,
        hold_type=hold_type,
        reference=reference,
        escalated_to=escalated_to,
        after=after,
        limit=limit + 1,  # one more tells whether another page follows
    )
    now = uow.service.clock()
    items = [to_public(hold, now) for hold in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return ExceptionsPage(
        items=items,
        next_cursor=encode_cursor(last.due_at, last.hold_id) if last is not None else None,
    )


async def resolve_hold(
    *, uow: Work, order_id: str, hold_id: int, cmd: HoldResolve, actor: Principal
) -> HoldResolution:
    """Record the actor's decision on a hold, carry it out, and audit it.

    The actor (the caller's principal) resolves: a body naming someone else is a 403, and so is
    an actor whose roles neither own the hold nor oversee the queue (may_work_on). The
    route lets every owning role in, since which hold it is decides who may act on it.

    A hold is decided once: resolving it again is a 409 whatever the decision, the same one
    included (the first decision has already been carried out; repeating it must not redo it).
    An order that has ended (cancelled, rejected, closed) is a 409 too.
    """
    resolver = acting_person(actor, cmd.resolved_by, field="resolved_by")
    order = await repository.get_order(uow.session, order_id, lock=True)
    if order is None:
        raise NotFound(f"no order {order_id}")
    hold = next((h for h in order.holds if h.id == hold_id), None)
    if hold is None:
        raise NotFound(f"order {order_id} has no hold {hold_id}")
    # Before the conflicts below: a refused actor learns nothing of how the hold stands.
    owner = Role(hold.owner_role)
    if not may_work_on(owner, actor.roles):
        raise ForbiddenActor(
            f"{actor.subject} ({actor.role}) may not resolve hold {hold_id}: a "
            f"{hold.type} is resolved by {owner}, operations or admin"
        )
    status = Status(order.status)
    if status in domain.FINAL:
        raise Conflict(f"order {order_id} is {status}; its holds can no longer be resolved")
    if hold.resolved_at is not None:
        raise Conflict(
            f"hold {hold_id} was already resolved ({hold.resolution}) at "
            f"{as_utc(hold.resolved_at).isoformat()}"
        )
    if not may_take_claim(hold.claimed_by, actor.subject, actor.roles):
        raise Conflict(
            f"hold {hold_id} is claimed by {hold.claimed_by}: they decide it, or operations "
            "unclaims it first"
        )
    decision = Resolution(cmd.decision)
    if decision == Resolution.REJECT and Status.REJECTED not in domain.TRANSITIONS[status]:
        raise Conflict(f"an order that is {status} can no longer be rejected; cancel it instead")

    now = uow.service.clock()
    before = _audited(order, hold)
    _close(uow, hold, decision, cmd.note, resolver, now=now)
    if decision == Resolution.REJECT:
        _reject(uow, order, hold, cmd, resolver, now=now)
    else:
        await _release(uow, order, hold, cmd)
    await audit.record(
        uow,
        actor=actor,
        action="hold.resolved",
        object_type="hold",
        # The order's id, not the hold's: `GET /v1/audit?object_id={order}` then shows every
        # governed action on the order, its holds' resolutions and its cancellation alike.
        object_id=order.order_id,
        owner_role=owner,
        before=before,
        after=_audited(order, hold),
        reason=cmd.note,
    )
    return HoldResolution(order_id=order.order_id, status=order.status, hold=to_public(hold, now))


def _audited(order: Order, hold: OrderHold) -> dict[str, object]:
    """The hold and its order as the audit trail records them, before and after a decision."""
    resolved = hold.resolved_at is not None
    return {
        "hold_id": hold.id,
        "hold_type": hold.type,
        "status": HoldState.RESOLVED if resolved else HoldState.OPEN,
        "decision": hold.resolution,
        "order_status": order.status,
    }


async def _release(uow: Work, order: Order, hold: OrderHold, cmd: HoldResolve) -> None:
    if hold.type == HoldType.PAYMENT_HOLD and order.payment_state == PaymentState.HELD:
        _decide_payment_review(uow, order, approve=True, note=cmd.note)
        # Finance answers again: authorized (or declined).
        order.payment_state = PaymentState.PENDING
        uow.session.add(order)
    if hold.type in domain.NOTICES:
        return  # a notice never stopped the order: closing it is all there is to do
    if Status(order.status) != Status.ON_HOLD or lifecycle.has_blocking_holds(order):
        return
    stock, payment = order.stock_state, order.payment_state
    if stock == StockState.RESERVED and payment == PaymentState.AUTHORIZED:
        await lifecycle.try_confirm(uow, order, cause=None)
        return
    target = Status.BACKORDERED if stock == StockState.WAITING else Status.VALIDATING
    lifecycle.move(uow, order, target, domain.cut(f"{hold.type} released: {cmd.note}"))
    # A reservation that expired during the hold is asked for again now.
    await lifecycle.try_confirm(uow, order, cause=None)


def _reject(
    uow: Work, order: Order, hold: OrderHold, cmd: HoldResolve, resolver: str, *, now: datetime
) -> None:
    for other in order.holds:
        if other.resolved_at is None:
            note = f"order rejected with hold {hold.id} ({hold.type})"
            _close(uow, other, Resolution.REJECT, note, resolver, now=now)
    if hold.type == HoldType.PAYMENT_HOLD and order.payment_state == PaymentState.HELD:
        _decide_payment_review(uow, order, approve=False, note=cmd.note)
    reason = domain.cut(f"{hold.type} rejected: {cmd.note}")
    lifecycle.reject(uow, order, reason, cause=None)


def _decide_payment_review(uow: Work, order: Order, *, approve: bool, note: str) -> None:
    uow.outbox.add(
        uow.session,
        ResolvePaymentReview(order_id=order.order_id, approve=approve, note=note),
        key=order.order_id,
    )


def _close(
    uow: Work,
    hold: OrderHold,
    decision: Resolution,
    note: str,
    resolved_by: str,
    *,
    now: datetime,
) -> None:
    hold.resolved_at = now
    hold.resolution = decision
    hold.resolution_note = note
    hold.resolved_by = resolved_by
    uow.session.add(hold)


def to_public(hold: OrderHold, now: datetime) -> ExceptionPublic:
    """The queue's view of a hold as of `now`; overdue when resolved late, or open past its
    due time."""
    if hold.id is None:
        raise ValueError("a hold is shown only once it is stored")
    due_at = as_utc(hold.due_at)
    ended = as_utc(hold.resolved_at) if hold.resolved_at is not None else now
    return ExceptionPublic(
        exception_id=exception_id(hold.id),
        hold_id=hold.id,
        order_id=hold.order_id,
        type=hold.type,
        reason=hold.reason,
        reference=hold.reference,
        owner_role=hold.owner_role,
        priority=domain.HOLD_PRIORITY[HoldType(hold.type)],
        rule_set_version=hold.rule_set_version,
        opened_at=hold.opened_at,
        due_at=due_at,
        overdue=ended > due_at,
        claimed_by=hold.claimed_by,
        claimed_at=hold.claimed_at,
        resolved_at=hold.resolved_at,
        resolution=hold.resolution,
        resolution_note=hold.resolution_note,
        resolved_by=hold.resolved_by,
        escalated_to=hold.escalated_to,
        escalated_at=hold.escalated_at,
    )


EXCEPTION_PREFIX = "hold-"


def exception_id(hold_id: int) -> str:
    """A hold's name in the queue every service shares (`keel_contracts.exception_queue`)."""
    return f"{EXCEPTION_PREFIX}{hold_id}"


# The cursor is opaque to clients: the (due_at, hold id) position of the last hold they saw.


def encode_cursor(due_at: datetime, hold_id: int) -> str:
    return cursors.encode_cursor([as_utc(due_at), hold_id])


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    due_at, hold_id = cursors.decode_cursor(cursor, parts=2)
    return (
        cursors.cursor_datetime(due_at),
        cursors.cursor_int(hold_id, maximum=holds_repository.MAX_HOLD_ID),
    )
