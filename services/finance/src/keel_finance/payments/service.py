"""Payment use cases: authorize, capture, void and refund one order's payment through the provider
port (`uow.service.payments`), carry out the decision on a payment the provider held for review,
and say where a payment stands.

The payment row is the record of what the provider decided, so a command repeated for an order
already decided is answered from the row instead of by a new call to the provider. Every answer
(`keel_finance.payments.answers`) goes through the outbox, keyed by order id, in the caller's
transaction; the message boundary commits.
A command that can never succeed raises PermanentError, which the kit dead-letters.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from keel_contracts import Envelope, money
from keel_contracts.commands import (
    AuthorizePayment,
    AuthorizeSealedPayment,
    CapturePayment,
    ResolvePaymentReview,
    VoidPayment,
)
from keel_contracts.events import RefundRequested
from keel_contracts.roles import Role
from keel_finance import domain, repository
from keel_finance.context import Work
from keel_finance.domain import NewPayment, PaymentStatus
from keel_finance.models import Payment, Refund
from keel_finance.payments import answers
from keel_finance.payments.provider import Authorization, Outcome, PaymentProvider, ProviderRefused
from keel_finance.schemas import PaymentPublic
from keel_finance.service import post_entry
from keel_kit import audit, sealing
from keel_kit.handlers import PermanentError
from keel_kit.identity import Principal
from keel_kit.problems import NotFound

log = logging.getLogger(__name__)

# Column sizes. A longer order id is refused up front: on PostgreSQL it would fail only when the
# batch is flushed, outside any handler, and the kit would retry that batch instead of
# dead-lettering the one command. Free-text fields are cut to fit instead.
ORDER_ID_MAX = 64
REASON_MAX = 200
METHOD_MAX = 50

_STATUS_OF = {
    Outcome.APPROVED: PaymentStatus.AUTHORIZED,
    Outcome.DECLINED: PaymentStatus.DECLINED,
    Outcome.REVIEW: PaymentStatus.HELD,
}


async def authorize_payment(*, uow: Work, cmd: AuthorizePayment, cause: Envelope) -> None:
    """Ask the provider once per order and announce its decision; a repeat re-announces where
    the payment stands (authorized, declined, held, or what became of it since)."""
    await _authorize(uow, cmd, cmd.token, cause)


async def authorize_sealed_payment(
    *, uow: Work, cmd: AuthorizeSealedPayment, cause: Envelope
) -> None:
    """As `authorize_payment`, with the card token opened from its seal; a token finance's key
    cannot open is dead-lettered (sealed with another key: the keys were rotated under it)."""
    try:
        token = sealing.unseal(uow.service.auth_folder, "finance", cmd.sealed_token)
    except sealing.Unsealable as error:
        raise PermanentError(f"order {cmd.order_id}: {error}") from error
    await _authorize(uow, cmd, token, cause)


async def _authorize(
    uow: Work, cmd: AuthorizePayment | AuthorizeSealedPayment, token: str, cause: Envelope
) -> None:
    """Either command, its token in the clear (passed beside it: no command is built again)."""
    _check_order_id(cmd.order_id)
    payment = await repository.get_payment(uow.session, cmd.order_id)
    if payment is not None:
        answers.announce(uow, payment, cause)
        return
    decided = await _decide(uow.service.payments, cmd, token)
    repository.add_payment(uow.session, decided)
    answers.announce(uow, decided, cause)


async def capture_payment(*, uow: Work, cmd: CapturePayment, cause: Envelope) -> Payment:
    """Capture an authorized payment and book the cash; the same capture again only re-announces.

    Posts Dr cash / Cr receivable, and with the goods/shipping split (sent when the order has
    shipped) also the sale: Dr receivable / Cr sales revenue and shipping income.
    """
    _check_order_id(cmd.order_id)
    payment = await repository.get_payment(uow.session, cmd.order_id)
    if payment is None:
        raise PermanentError(f"order {cmd.order_id} has no payment to capture")
    if (
        payment.status == PaymentStatus.CAPTURED
        and payment.captured_amount == cmd.amount.amount
        and payment.currency == cmd.amount.currency
    ):
        answers.announce(uow, payment, cause)
        return payment
    try:
        domain.check_capture(
            status=payment.status,
            authorized=payment.amount,
            captured=payment.captured_amount,
            currency=payment.currency,
            amount=cmd.amount.amount,
            amount_currency=cmd.amount.currency,
        )
        await uow.service.payments.capture(
            authorization_id=answers.authorization_id(payment), amount=cmd.amount
        )
    except (domain.PaymentRefused, ProviderRefused) as refusal:
        raise PermanentError(f"cannot capture order {cmd.order_id}: {refusal}") from refusal
    payment.status = PaymentStatus.CAPTURED
    payment.captured_amount = cmd.amount.amount
    payment.updated_at = uow.service.clock()
    if cmd.goods is not None:
        # Capture happens when the order has shipped: the sale is earned now too.
        shipping = cmd.shipping.amount if cmd.shipping else Decimal(0)
        await post_entry(
            uow=uow,
            entry=domain.sale_entry(payment.currency, cmd.goods.amount, shipping),
            source_type="sale",
            source_id=payment.order_id,
            memo=f"sale of order {payment.order_id}",
            cause=cause,
            order_id=payment.order_id,
        )
    await post_entry(
        uow=uow,
        entry=domain.capture_entry(payment.currency, cmd.amount.amount),
        source_type="payment_capture",
        source_id=payment.order_id,
        memo=f"capture {payment.authorization_id} of order {payment.order_id}",
        cause=cause,
        order_id=payment.order_id,
    )
    answers.announce(uow, payment, cause)
    return payment


async def void_payment(*, uow: Work, cmd: VoidPayment, cause: Envelope) -> Payment | None:
    """Release an authorization (or one held for review) that was not captured.

    An order cancelled before any authorization, after a decline, or twice has nothing held:
    that is no failure, and nothing is announced.
    """
    payment = await repository.get_payment(uow.session, cmd.order_id)
    if payment is None or payment.status in (PaymentStatus.DECLINED, PaymentStatus.VOIDED):
        return payment
    if payment.status == PaymentStatus.CAPTURED:
        raise PermanentError(
            f"cannot void order {cmd.order_id}: its payment is captured and must be refunded"
        )
    try:
        await uow.service.payments.void(authorization_id=answers.authorization_id(payment))
    except ProviderRefused as refusal:
        raise PermanentError(f"cannot void order {cmd.order_id}: {refusal}") from refusal
    payment.status = PaymentStatus.VOIDED
    payment.reason = cmd.reason[:REASON_MAX]
    payment.updated_at = uow.service.clock()
    answers.announce(uow, payment, cause)
    return payment


# Where a payment may stand once a review decision has been carried out.
_AFTER_APPROVAL = frozenset({PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED})
_AFTER_REJECTION = frozenset({PaymentStatus.DECLINED, PaymentStatus.VOIDED})


async def resolve_review(*, uow: Work, cmd: ResolvePaymentReview, cause: Envelope) -> Payment:
    """Carry out a person's decision on a payment held for review, and announce where it stands.

    Approval asks the provider to authorize what it held (payment.authorized); rejection releases
    the hold at the provider and declines the payment (payment.declined). The same decision again
    only re-announces. A decision the payment can no longer take (approving a declined or voided
    payment, rejecting an authorized one) can never succeed and is dead-lettered.
    """
    _check_order_id(cmd.order_id)
    payment = await repository.get_payment(uow.session, cmd.order_id)
    if payment is None:
        raise PermanentError(f"order {cmd.order_id} has no payment to review")
    verdict = "approved" if cmd.approve else "rejected"
    if payment.status == PaymentStatus.HELD:
        authorization_id = answers.authorization_id(payment)
        try:
            if cmd.approve:
                await uow.service.payments.approve_review(authorization_id=authorization_id)
            else:
                await uow.service.payments.void(authorization_id=authorization_id)
        except ProviderRefused as refusal:
            raise PermanentError(
                f"cannot resolve the review of order {cmd.order_id}: {refusal}"
            ) from refusal
        payment.status = PaymentStatus.AUTHORIZED if cmd.approve else PaymentStatus.DECLINED
        note = f": {cmd.note}" if cmd.note else ""
        payment.reason = f"review {verdict}{note}"[:REASON_MAX]
        payment.updated_at = uow.service.clock()
    elif payment.status not in (_AFTER_APPROVAL if cmd.approve else _AFTER_REJECTION):
        raise PermanentError(
            f"the review of order {cmd.order_id} cannot be {verdict}: its payment is "
            f"{payment.status}"
        )
    answers.announce(uow, payment, cause)
    return payment


async def refund_payment(*, uow: Work, event: RefundRequested, cause: Envelope) -> Refund:
    """Refund a return through the provider, once per refund id, and announce payment.refunded.

    The refund is capped at what the order's payment captured less what was refunded before; a
    capped refund pays the rest and records the shortfall. A request with nothing captured left to
    refund (no payment, not captured, refunded in full) can never succeed: it is dead-lettered
    with the reason. Posts Dr sales returns / Cr cash. The same refund id again, under any event
    id, only re-announces what was refunded.
    """
    _check_id("order id", event.order_id)
    _check_id("refund id", event.refund_id)
    _check_id("return id", event.return_id)
    refund = await repository.get_refund(uow.session, event.refund_id)
    if refund is not None:
        answers.announce_refund(uow, refund, cause)
        return refund
    payment = await repository.get_payment(uow.session, event.order_id)
    refusal_prefix = f"cannot refund {event.refund_id} of order {event.order_id}"
    if payment is None:
        raise PermanentError(f"{refusal_prefix}: the order has no payment")
    try:
        amount = domain.refundable(
            status=payment.status,
            captured=payment.captured_amount,
            refunded=payment.refunded_amount,
            currency=payment.currency,
            requested=event.amount.amount,
            requested_currency=event.amount.currency,
        )
        await uow.service.payments.refund(
            authorization_id=answers.authorization_id(payment),
            refund_id=event.refund_id,
            amount=money.shown_money(amount, payment.currency),
        )
    except (domain.PaymentRefused, ProviderRefused) as refusal:
        raise PermanentError(f"{refusal_prefix}: {refusal}") from refusal
    refund = Refund(
        refund_id=event.refund_id,
        order_id=event.order_id,
        return_id=event.return_id,
        currency=payment.currency,
        requested_amount=event.amount.amount,
        amount=amount,
    )
    repository.add_refund(uow.session, refund)
    if refund.shortfall > 0:
        log.warning(
            "refund %s of order %s capped at %s %s: %s requested, %s short",
            refund.refund_id,
            refund.order_id,
            amount,
            refund.currency,
            event.amount.amount,
            refund.shortfall,
        )
    payment.refunded_amount += amount
    payment.updated_at = uow.service.clock()
    await _audit_refund(uow, refund)
    uow.service.kpis.refund_paid(uow.session, refund.amount, refund.currency)
    await post_entry(
        uow=uow,
        entry=domain.refund_entry(payment.currency, amount),
        source_type="refund",
        source_id=event.refund_id,
        memo=f"refund {event.refund_id} of return {event.return_id} of order {event.order_id}",
        cause=cause,
        order_id=event.order_id,
    )
    answers.announce_refund(uow, refund, cause)
    return refund


async def payment(*, uow: Work, order_id: str) -> PaymentPublic:
    """Where the order's payment stands, its amounts to the cent; a 404 if it has none."""
    row = await repository.get_payment(uow.session, order_id)
    if row is None:
        raise NotFound(f"no payment for order {order_id}")
    return PaymentPublic(
        **row.model_dump(exclude={"amount", "captured_amount", "refunded_amount"}),
        amount=money.shown(row.amount, row.currency),
        captured_amount=money.shown(row.captured_amount, row.currency),
        refunded_amount=money.shown(row.refunded_amount, row.currency),
    )


async def _audit_refund(uow: Work, refund: Refund) -> None:
    """Money leaving: finance's own chain records each refund it pays, as the service itself
    (the approval is on the returns service's chain, under the approver's name)."""
    await audit.record(
        uow,
        actor=Principal.of_service("finance"),
        action="refund.paid",
        object_type="refund",
        object_id=refund.refund_id,
        owner_role=Role.FINANCE,
        after={
            "order_id": refund.order_id,
            "return_id": refund.return_id,
            "currency": refund.currency,
            "requested": money.shown(refund.requested_amount, refund.currency),
            "paid": money.shown(refund.amount, refund.currency),
        },
        reason=f"refund requested for return {refund.return_id}",
    )


async def _decide(
    provider: PaymentProvider, cmd: AuthorizePayment | AuthorizeSealedPayment, token: str
) -> NewPayment:
    try:
        domain.check_authorization(cmd.amount.amount, cmd.amount.currency)
    except domain.PaymentRefused as refusal:
        # Declined here, without troubling the provider: the order still gets its answer.
        result = Authorization(Outcome.DECLINED, None, str(refusal))
    else:
        result = await provider.authorize(
            order_id=cmd.order_id, amount=cmd.amount, method=cmd.method, token=token
        )
    return NewPayment(
        order_id=cmd.order_id,
        authorization_id=result.authorization_id,
        status=_STATUS_OF[result.outcome],
        method=cmd.method[:METHOD_MAX],
        amount=cmd.amount.amount,
        currency=cmd.amount.currency,
        reason=result.reason[:REASON_MAX],
    )


def _check_order_id(order_id: str) -> None:
    _check_id("order id", order_id)


def _check_id(name: str, value: str) -> None:
    if not 0 < len(value) <= ORDER_ID_MAX:
        raise PermanentError(f"{name} must be 1 to {ORDER_ID_MAX} characters")
