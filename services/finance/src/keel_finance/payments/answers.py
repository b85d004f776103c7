"""What finance answers about payments: the event that says where an order's payment stands, and
the one that says a refund was paid. Each goes through the outbox, keyed by order id, in the
caller's transaction."""

from __future__ import annotations

from keel_contracts import Envelope, Message, money
from keel_contracts.events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentHeld,
    PaymentRefunded,
    PaymentVoided,
)
from keel_finance.context import Work
from keel_finance.domain import NewPayment, PaymentStatus
from keel_finance.models import Payment, Refund

# A payment as it stands: its row, or a decision just made and not yet written as one.
Standing = Payment | NewPayment


def announce(uow: Work, payment: Standing, cause: Envelope) -> None:
    uow.outbox.add(uow.session, answer(payment), key=payment.order_id, causation=cause)


def answer(payment: Standing) -> Message:
    """The event that says where the payment stands."""
    order_id = payment.order_id
    match payment.status:
        case PaymentStatus.AUTHORIZED:
            return PaymentAuthorized(
                order_id=order_id,
                authorization_id=authorization_id(payment),
                amount=money.shown_money(payment.amount, payment.currency),
            )
        case PaymentStatus.DECLINED:
            return PaymentDeclined(order_id=order_id, reason=payment.reason)
        case PaymentStatus.HELD:
            return PaymentHeld(order_id=order_id, reason=payment.reason)
        case PaymentStatus.CAPTURED:
            return PaymentCaptured(
                order_id=order_id,
                authorization_id=authorization_id(payment),
                amount=money.shown_money(payment.captured_amount, payment.currency),
            )
        case PaymentStatus.VOIDED:
            return PaymentVoided(order_id=order_id, authorization_id=authorization_id(payment))
    raise ValueError(f"payment of order {order_id} has unknown status {payment.status!r}")


def announce_refund(uow: Work, refund: Refund, cause: Envelope) -> None:
    paid = PaymentRefunded(
        order_id=refund.order_id,
        refund_id=refund.refund_id,
        return_id=refund.return_id,
        amount=money.shown_money(refund.amount, refund.currency),
    )
    uow.outbox.add(uow.session, paid, key=refund.order_id, causation=cause)


def authorization_id(payment: Standing) -> str:
    """The provider's id of the payment's authorization, which every later call names."""
    # Only declined payments lack an id (Authorization enforces it for the rest).
    if payment.authorization_id is None:
        raise ValueError(f"payment of order {payment.order_id} has no authorization id")
    return payment.authorization_id
