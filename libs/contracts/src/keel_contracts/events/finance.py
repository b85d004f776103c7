"""Finance's events: payments (refunds included) and journal entries."""

from keel_contracts.envelope import Message
from keel_contracts.values import Amount, Currency, Money
from keel_contracts.wire import WireModel

# --- finance.payment.v1 ---


class PaymentAuthorized(Message):
    type = "payment.authorized"
    order_id: str
    authorization_id: str
    amount: Money


class PaymentDeclined(Message):
    type = "payment.declined"
    order_id: str
    reason: str


class PaymentHeld(Message):
    """The provider wants a review before it authorizes; the order waits on a payment hold."""

    type = "payment.held"
    order_id: str
    reason: str


class PaymentCaptured(Message):
    type = "payment.captured"
    order_id: str
    authorization_id: str
    amount: Money


class PaymentVoided(Message):
    type = "payment.voided"
    order_id: str
    authorization_id: str


# --- finance.journal.v1 ---


class JournalLine(WireModel):
    account: str
    debit: Amount
    credit: Amount


class JournalEntryPosted(Message):
    type = "journal.entry_posted"
    entry_id: str
    source_id: str
    source_type: str
    currency: Currency
    lines: tuple[JournalLine, ...]


# --- finance.payment.v1: refunds (answering refund.requested) ---


class PaymentRefunded(Message):
    """Finance refunded `amount` to the customer for a return's refund request.

    `amount` may be less than requested: finance never refunds more than the order's captured
    payment less what it refunded before, and records the shortfall.
    """

    type = "payment.refunded"
    order_id: str
    refund_id: str
    return_id: str
    amount: Money
