"""Payment rules, free of I/O: what may be authorized, captured and refunded, and what each
posts to the journal."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from keel_contracts import money
from keel_finance.domain.ledger import CASH, RECEIVABLE, SALES_RETURNS, ZERO, Entry, Posting


class PaymentStatus(StrEnum):
    AUTHORIZED = "authorized"
    DECLINED = "declined"
    HELD = "held"  # the provider wants a review before it decides
    CAPTURED = "captured"
    VOIDED = "voided"


@dataclass(frozen=True, slots=True)
class NewPayment:
    """An order's payment as the provider has just decided it: what its row is written from and
    its answer read from. A plain value, since nothing else happens to a payment in the
    transaction that decides it (almost always: see `keel_finance.repository.get_payment`)."""

    order_id: str
    authorization_id: str | None
    status: PaymentStatus
    method: str
    amount: Decimal
    currency: str
    reason: str

    @property
    def captured_amount(self) -> Decimal:
        return ZERO  # a payment is captured after it is decided, never as it is


class PaymentRefused(ValueError):
    """A payment request that can never succeed against the payment as it stands."""


def check_authorization(amount: Decimal, currency: str) -> None:
    """An authorization of less than the journal posts in its currency could never be captured."""
    _check_posts_something("an authorization", amount, currency)


def _check_posts_something(what: str, amount: Decimal, currency: str) -> None:
    if money.posting(amount, currency) <= 0:
        raise PaymentRefused(
            f"{what} needs an amount of at least {money.least(currency)} {currency}, not {amount}"
        )


def check_capture(
    *,
    status: str,
    authorized: Decimal,
    captured: Decimal,
    currency: str,
    amount: Decimal,
    amount_currency: str,
) -> None:
    """One capture per authorization, in its currency, of at most the authorized amount."""
    if status == PaymentStatus.CAPTURED:
        raise PaymentRefused(
            f"already captured {money.shown(captured, currency)} {currency}; "
            "an authorization is captured once"
        )
    if status != PaymentStatus.AUTHORIZED:
        raise PaymentRefused(f"a {status} payment cannot be captured, only an authorized one")
    if amount_currency != currency:
        raise PaymentRefused(f"capture in {amount_currency} of a payment authorized in {currency}")
    _check_posts_something("a capture", amount, currency)
    if amount > authorized:
        raise PaymentRefused(
            f"capture of {money.shown(amount, currency)} {currency} exceeds the authorized "
            f"{money.shown(authorized, currency)} {currency}"
        )


def capture_entry(currency: str, amount: Decimal) -> Entry:
    """Captured money is cash that settles the customer's receivable.

    The receivable itself (Dr receivable / Cr revenue) is posted by the shipment flow, when the
    sale is earned; until then a capture leaves the receivable in credit, which is what a
    customer's prepayment is.
    """
    return Entry.of(currency, Posting(CASH, debit=amount), Posting(RECEIVABLE, credit=amount))


def refundable(
    *,
    status: str,
    captured: Decimal,
    refunded: Decimal,
    currency: str,
    requested: Decimal,
    requested_currency: str,
) -> Decimal:
    """What a refund request may refund: the request, capped at what was captured and not yet
    refunded. Refused when nothing captured is left to refund (or the request moves nothing)."""
    if status != PaymentStatus.CAPTURED:
        raise PaymentRefused(f"a {status} payment has nothing captured to refund")
    if requested_currency != currency:
        raise PaymentRefused(f"refund in {requested_currency} of a payment in {currency}")
    _check_posts_something("a refund", requested, currency)
    # A refund is what its journal line posts, so the journal posts exactly what is recorded;
    # what is left is capped, so a fraction of a cent (or yen) left over is never refunded.
    left = money.cap(captured - refunded, currency)
    if left <= 0:
        raise PaymentRefused(
            f"the captured {money.shown(captured, currency)} {currency} is already refunded in full"
        )
    return min(money.posting(requested, currency), left)


def refund_entry(currency: str, amount: Decimal) -> Entry:
    """Money refunded for returned goods: a sales return (contra-revenue) paid out in cash."""
    return Entry.of(currency, Posting(SALES_RETURNS, debit=amount), Posting(CASH, credit=amount))
