"""Refunds of inspected returns: work the amount out, hold it for approval above the
threshold, ask finance to pay it (`refund.requested`; finance refunds through its payment
port and caps at what was captured), and learn what it paid (`payment.refunded`)."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import PaymentRefunded, RefundLine, RefundRequested
from keel_contracts.money import shown, shown_money
from keel_contracts.roles import Role
from keel_contracts.times import as_utc
from keel_contracts.values import Money
from keel_kit import audit, cursors
from keel_kit.handlers import PermanentError
from keel_kit.identity import Principal
from keel_kit.problems import Conflict, NotFound
from keel_returns import domain, repository, settlement
from keel_returns.context import Work
from keel_returns.domain import Grade, RefundStatus, ReturnStatus
from keel_returns.models import Refund, ReturnAuthorization, ShippedOrder
from keel_returns.schemas import RefundLinePublic, RefundPublic, RefundsPage

log = logging.getLogger(__name__)


async def request_refund(
    *, uow: Work, authorization: ReturnAuthorization, graded: dict[tuple[str, Grade], int]
) -> None:
    """Refund what was graded on an inspected return, and move the return on.

    Without the order's prices the return rests `inspected` with a note; with nothing left of
    the order total it is `closed`; above the threshold the refund waits for an approver.
    The caller holds the order's row locked.
    """
    session, rules = uow.session, uow.service.settings
    facts = await repository.order_facts(session, authorization.order_id)
    order = facts.order
    money = _order_money(order)
    if order is None or money is None:
        authorization.note = (
            "no refund worked out: the order's total and prices (order.placed) are unknown here"
        )
        return
    ordered_back = await repository.graded_units_of_order(session, authorization.order_id)
    try:
        quote = domain.quote_refund(
            graded=graded,
            order=money,
            whole_order=domain.whole_order_returned(money.ordered, ordered_back),
            shipping_policy=rules.refund_shipping,
        )
    except domain.PriceUnknown as unknown:
        authorization.note = f"no refund worked out: {unknown} (order.placed carried no price)"
        return
    if quote.amount <= 0:
        authorization.status = ReturnStatus.CLOSED
        authorization.note = (
            f"nothing left to refund: earlier refunds of order {order.order_id} already reach "
            f"its total {shown(money.total, money.currency)} {money.currency}"
        )
        return

    currency = order.currency or ""
    refund = Refund(
        refund_id=str(new_event_id()),
        return_id=authorization.return_id,
        order_id=authorization.order_id,
        status=RefundStatus.REQUESTED,
        currency=currency,
        amount=quote.amount,
        goods=quote.goods,
        restocking_fee=quote.restocking_fee,
        shipping=quote.shipping,
        capped=quote.capped,
        lines=[
            {
                "sku": x.sku,
                "grade": x.grade.value,
                "quantity": x.quantity,
                "unit_price": str(x.unit_price),
                "restocking_fee": str(x.restocking_fee),
                "amount": str(x.amount),
            }
            for x in quote.lines
        ],
    )
    session.add(refund)
    order.refunded += quote.amount
    order.shipping_refunded = order.shipping_refunded or quote.shipping > 0
    order.updated_at = uow.service.clock()
    # order.refunded now counts this refund with all the order's earlier ones.
    if domain.needs_approval(order.refunded, rules.refund_approval_threshold):
        refund.status = RefundStatus.PENDING_APPROVAL
        authorization.status = ReturnStatus.REFUND_PENDING_APPROVAL
        authorization.note = _approval_note(
            refund, order, threshold=rules.refund_approval_threshold
        )
        return
    authorization.status = ReturnStatus.REFUND_REQUESTED
    _announce(uow, refund)


def _approval_note(refund: Refund, order: ShippedOrder, *, threshold: Decimal) -> str:
    """Why the refund waits: above the threshold alone, or with the order's earlier refunds."""
    currency = refund.currency
    amount = f"{shown(refund.amount, currency)} {currency}"
    if order.refunded == refund.amount:
        above = f"refund {refund.refund_id} of {amount} is above"
    else:
        above = (
            f"refund {refund.refund_id} of {amount} brings the refunds of order "
            f"{order.order_id} to {shown(order.refunded, currency)} {currency}, above"
        )
    return f"{above} the approval threshold {threshold}: waiting for a finance approver"


async def approve_refund(*, uow: Work, refund_id: str, actor: Principal) -> RefundPublic:
    """`actor`, a finance person, lets a refund waiting for approval go: `refund.requested`
    follows, and the approval is on the audit trail."""
    session = uow.session
    refund = await repository.get_refund(session, refund_id)
    if refund is None:
        raise NotFound(f"no refund {refund_id}")
    await repository.order_facts(session, refund.order_id)
    refund = await repository.get_refund(session, refund_id, fresh=True)
    assert refund is not None  # refunds are never deleted
    authorization = await repository.get_return(session, refund.return_id, fresh=True)
    assert authorization is not None  # returns are never deleted
    if refund.status != RefundStatus.PENDING_APPROVAL:
        raise Conflict(
            f"refund {refund_id} is {refund.status}: only a refund pending approval can be approved"
        )
    before = _state(refund)
    now = uow.service.clock()
    refund.status = RefundStatus.REQUESTED
    refund.approver = actor.subject
    refund.approved_at = now
    session.add(refund)
    authorization.status = ReturnStatus.REFUND_REQUESTED
    authorization.note = None
    authorization.updated_at = now
    session.add(authorization)
    _announce(uow, refund)
    await audit.record(
        uow,
        actor=actor,
        action="refund.approved",
        object_type="refund",
        object_id=refund_id,
        owner_role=Role.FINANCE,
        before=before,
        after=_state(refund),
    )
    return public(refund)


def _state(refund: Refund) -> dict[str, Any]:
    """The refund as the audit trail keeps it."""
    return {
        "status": str(refund.status),
        "amount": str(shown(Decimal(refund.amount), refund.currency)),
        "currency": refund.currency,
        "return_id": refund.return_id,
        "approver": refund.approver,
    }


async def record_refunded(*, uow: Work, event: PaymentRefunded, cause: Envelope) -> None:
    """Finance paid a refund when `cause` happened: record what it paid and any shortfall, and
    close the return once every refund of it is paid.

    Finance announces a refund again (under a new event id) when asked again, so a refund paid
    already changes nothing. A refund this service never made, or a payment that cannot be
    recorded as it stands, raises `PermanentError`: the message is dead-lettered with the reason.
    """
    session = uow.session
    await repository.order_facts(session, event.order_id)  # lock the order, as every step does
    found = await repository.return_refunds(session, event.refund_id)
    if found is None:
        raise PermanentError(
            f"payment.refunded for unknown refund {event.refund_id} "
            f"(return {event.return_id}, order {event.order_id})"
        )
    refund = found.refunds[event.refund_id]
    if (refund.return_id, refund.order_id) != (event.return_id, event.order_id):
        raise PermanentError(
            f"payment.refunded names refund {event.refund_id} of return {event.return_id}, "
            f"order {event.order_id}; it is of return {refund.return_id}, order {refund.order_id}"
        )
    if refund.status == RefundStatus.REFUNDED:
        if refund.refunded_amount != event.amount.amount:
            log.warning(
                "refund %s was paid %s %s; a later payment.refunded says %s %s: kept the first",
                refund.refund_id,
                refund.refunded_amount,
                refund.currency,
                event.amount.amount,
                event.amount.currency,
            )
        return
    try:
        paid = settlement.settle_refund(
            refund_id=refund.refund_id,
            status=refund.status,
            requested=Decimal(refund.amount),
            currency=refund.currency,
            paid=event.amount.amount,
            paid_currency=event.amount.currency,
        )
    except settlement.SettlementRefused as refused:
        raise PermanentError(str(refused)) from refused
    paid_at = as_utc(cause.occurred_at)
    refund.status = RefundStatus.REFUNDED
    refund.refunded_amount = paid.refunded
    refund.shortfall = paid.shortfall
    refund.refunded_at = paid_at
    session.add(refund)
    if not settlement.all_paid(r.status for r in found.refunds.values()):
        return
    authorization = found.authorization
    try:
        domain.require_step(authorization.return_id, authorization.status, "record the refund paid")
    except domain.StepRefused as refused:
        raise PermanentError(str(refused)) from refused
    authorization.status = ReturnStatus.REFUNDED
    authorization.refunded_at = max(
        as_utc(r.refunded_at) for r in found.refunds.values() if r.refunded_at
    )
    authorization.note = _shortfall_note(list(found.refunds.values()))
    authorization.updated_at = uow.service.clock()
    session.add(authorization)


def _shortfall_note(paid: list[Refund]) -> str | None:
    """Why a refunded return got less than it was promised, if it did."""
    notes = [
        f"refund {r.refund_id} paid {shown(r.refunded_amount, r.currency)} of "
        f"{shown(Decimal(r.amount), r.currency)} {r.currency} requested: "
        f"{shown(r.shortfall, r.currency)} short (finance refunds no more than "
        "it captured)"
        for r in paid
        if r.shortfall and r.refunded_amount is not None
    ]
    return "; ".join(notes)[:300] if notes else None


def _announce(uow: Work, refund: Refund) -> None:
    def money(amount: Decimal | str) -> Money:
        return shown_money(Decimal(amount), refund.currency)

    uow.outbox.add(
        uow.session,
        RefundRequested(
            refund_id=refund.refund_id,
            return_id=refund.return_id,
            order_id=refund.order_id,
            amount=money(refund.amount),
            goods=money(refund.goods),
            restocking_fee=money(refund.restocking_fee),
            shipping=money(refund.shipping),
            lines=tuple(
                RefundLine(
                    sku=x["sku"],
                    quantity=x["quantity"],
                    grade=x["grade"],
                    unit_price=money(x["unit_price"]),
                    restocking_fee=money(x["restocking_fee"]),
                    amount=money(x["amount"]),
                )
                for x in refund.lines
            ),
            approver=refund.approver,
        ),
        key=refund.return_id,
        correlation_id=refund.order_id,
    )


def _order_money(order: ShippedOrder | None) -> domain.OrderMoney | None:
    if order is None or order.currency is None or order.total is None or order.ordered is None:
        return None  # order.placed, which brings them all, is not seen yet
    return domain.OrderMoney(
        currency=order.currency,
        total=Decimal(order.total),
        shipping=Decimal(order.shipping or 0),
        unit_prices={sku: Decimal(p) for sku, p in (order.unit_prices or {}).items()},
        ordered=order.ordered,
        refunded=Decimal(order.refunded),
        shipping_refunded=order.shipping_refunded,
    )


def public(refund: Refund) -> RefundPublic:
    def money(amount: Decimal | str) -> Money:
        return shown_money(Decimal(amount), refund.currency)

    return RefundPublic(
        refund_id=refund.refund_id,
        return_id=refund.return_id,
        order_id=refund.order_id,
        status=refund.status,
        amount=money(refund.amount),
        goods=money(refund.goods),
        restocking_fee=money(refund.restocking_fee),
        shipping=money(refund.shipping),
        capped=refund.capped,
        lines=[
            RefundLinePublic(
                sku=x["sku"],
                grade=x["grade"],
                quantity=x["quantity"],
                unit_price=money(x["unit_price"]),
                restocking_fee=money(x["restocking_fee"]),
                amount=money(x["amount"]),
            )
            for x in refund.lines
        ],
        approver=refund.approver,
        created_at=as_utc(refund.created_at),
        approved_at=as_utc(refund.approved_at) if refund.approved_at else None,
        refunded=None if refund.refunded_amount is None else money(refund.refunded_amount),
        shortfall=None if refund.shortfall is None else money(refund.shortfall),
        refunded_at=as_utc(refund.refunded_at) if refund.refunded_at else None,
    )


REFUND_ID_LENGTH = 36


async def refunds_page(
    *, uow: Work, status: RefundStatus, limit: int, cursor: str | None
) -> RefundsPage:
    """One page of the refunds in `status`, the oldest first (finance's approval queue is
    `pending_approval`)."""
    found = await repository.refunds_by_status(
        uow.session,
        status=status,
        after=_decode_cursor(cursor) if cursor is not None else None,
        limit=limit + 1,  # one more tells whether another page follows
    )
    last = found[limit - 1] if len(found) > limit else None
    next_cursor = cursors.encode_cursor([as_utc(last.created_at), last.refund_id]) if last else None
    return RefundsPage(items=[public(r) for r in found[:limit]], next_cursor=next_cursor)


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    created_at, refund_id = cursors.decode_cursor(cursor, parts=2)
    if not 0 < len(refund_id) <= REFUND_ID_LENGTH:
        raise cursors.not_a_cursor()
    return cursors.cursor_datetime(created_at), refund_id
