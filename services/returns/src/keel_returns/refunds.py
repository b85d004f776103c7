"""Refunds of inspected returns: work the amount out, hold it for approval above the
threshold, and ask finance to pay it (`refund.requested`; finance refunds through its payment
port and caps at what was captured)."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import new_event_id
from keel_contracts.events import RefundLine, RefundRequested
from keel_contracts.values import Money
from keel_kit.outbox import Outbox
from keel_kit.problems import Conflict, NotFound
from keel_kit.tables import utcnow
from keel_returns import domain, repository
from keel_returns.domain import Grade, RefundStatus, ReturnStatus, ShippingRefund
from keel_returns.models import Refund, ReturnAuthorization, ShippedOrder
from keel_returns.schemas import RefundApproval, RefundLinePublic, RefundPublic


async def request_refund(
    *,
    session: AsyncSession,
    outbox: Outbox,
    authorization: ReturnAuthorization,
    graded: dict[tuple[str, Grade], int],
    approval_threshold: Decimal,
    shipping_policy: ShippingRefund,
) -> None:
    """Refund what was graded on an inspected return, and move the return on.

    Without the order's prices the return rests `inspected` with a note; with nothing left of
    the order total it is `closed`; above the threshold the refund waits for an approver.
    The caller holds the order's row locked.
    """
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
            shipping_policy=shipping_policy,
        )
    except domain.PriceUnknown as unknown:
        authorization.note = f"no refund worked out: {unknown} (order.placed carried no price)"
        return
    if quote.amount <= 0:
        authorization.status = ReturnStatus.CLOSED
        authorization.note = (
            f"nothing left to refund: earlier refunds of order {order.order_id} already reach "
            f"its total {money.total:.2f} {order.currency}"
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
    order.updated_at = utcnow()
    if domain.needs_approval(quote.amount, approval_threshold):
        refund.status = RefundStatus.PENDING_APPROVAL
        authorization.status = ReturnStatus.REFUND_PENDING_APPROVAL
        authorization.note = (
            f"refund {refund.refund_id} of {quote.amount} {currency} is above the approval "
            f"threshold {approval_threshold}: waiting for a finance approver"
        )
        return
    authorization.status = ReturnStatus.REFUNDED
    _announce(session, outbox, refund)


async def approve_refund(
    *, session: AsyncSession, outbox: Outbox, refund_id: str, cmd: RefundApproval
) -> RefundPublic:
    """A finance approver lets a refund above the threshold go: `refund.requested` follows."""
    refund = await repository.get_refund(session, refund_id)
    if refund is None:
        raise NotFound(f"no refund {refund_id}")
    await repository.order_facts(session, refund.order_id)
    await session.refresh(refund)  # read again under the order's lock
    authorization = await repository.get_return(session, refund.return_id, fresh=True)
    assert authorization is not None  # returns are never deleted
    if refund.status != RefundStatus.PENDING_APPROVAL:
        raise Conflict(
            f"refund {refund_id} is {refund.status}: only a refund pending approval can be approved"
        )
    now = utcnow()
    refund.status = RefundStatus.REQUESTED
    refund.approver = cmd.approver
    refund.approved_at = now
    session.add(refund)
    authorization.status = ReturnStatus.REFUNDED
    authorization.note = None
    authorization.updated_at = now
    session.add(authorization)
    _announce(session, outbox, refund)
    return public(refund)


def _announce(session: AsyncSession, outbox: Outbox, refund: Refund) -> None:
    def money(amount: Decimal | str) -> Money:
        return Money(amount=Decimal(amount), currency=refund.currency)

    outbox.add(
        session,
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
    if order is None or order.total is None or order.ordered is None:
        return None
    return domain.OrderMoney(
        total=Decimal(order.total),
        shipping=Decimal(order.shipping or 0),
        unit_prices={sku: Decimal(p) for sku, p in (order.unit_prices or {}).items()},
        ordered=order.ordered,
        refunded=Decimal(order.refunded),
        shipping_refunded=order.shipping_refunded,
    )


def public(refund: Refund) -> RefundPublic:
    def money(amount: Decimal | str) -> Money:
        return Money(amount=Decimal(amount), currency=refund.currency)

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
        created_at=domain.as_utc(refund.created_at),
        approved_at=domain.as_utc(refund.approved_at) if refund.approved_at else None,
    )
