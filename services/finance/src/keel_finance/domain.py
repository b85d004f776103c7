"""Double-entry bookkeeping and payment rules, free of I/O.

An entry is built from (account, debit, credit) lines and refuses to exist unbalanced, so the
journal is balanced by construction rather than by a later check.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal("0")
CENT = Decimal("0.01")


class AccountKind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    kind: AccountKind


CHART_OF_ACCOUNTS: tuple[Account, ...] = (
    Account("1000", "Cash", AccountKind.ASSET),
    Account("1100", "Accounts receivable", AccountKind.ASSET),
    Account("1300", "Inventory", AccountKind.ASSET),
    Account("2000", "Accounts payable", AccountKind.LIABILITY),
    Account("2100", "Goods received not invoiced", AccountKind.LIABILITY),
    Account("3900", "Opening balance equity", AccountKind.EQUITY),
    Account("4000", "Sales revenue", AccountKind.REVENUE),
    Account("4100", "Shipping income", AccountKind.REVENUE),
    Account("5000", "Cost of goods sold", AccountKind.EXPENSE),
)
ACCOUNTS = {account.code: account for account in CHART_OF_ACCOUNTS}
CASH = "1000"
RECEIVABLE = "1100"
INVENTORY = "1300"
OPENING_BALANCE = "3900"
SALES_REVENUE = "4000"
SHIPPING_INCOME = "4100"
COST_OF_GOODS_SOLD = "5000"


class UnbalancedEntry(ValueError):
    pass


@dataclass(frozen=True)
class Posting:
    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO


@dataclass(frozen=True)
class Entry:
    """A balanced set of postings in one currency, rounded to cents."""

    currency: str
    postings: tuple[Posting, ...]

    @classmethod
    def of(cls, currency: str, *postings: Posting) -> Entry:
        rounded = tuple(
            Posting(p.account, p.debit.quantize(CENT), p.credit.quantize(CENT)) for p in postings
        )
        for posting in rounded:
            if posting.account not in ACCOUNTS:
                raise UnbalancedEntry(f"unknown account {posting.account}")
            if posting.debit < 0 or posting.credit < 0:
                raise UnbalancedEntry("debits and credits are never negative")
        debits = sum((p.debit for p in rounded), ZERO)
        credits = sum((p.credit for p in rounded), ZERO)
        if debits != credits:
            raise UnbalancedEntry(f"debits {debits} != credits {credits}")
        if debits == 0:
            raise UnbalancedEntry("an entry must move some money")
        return cls(currency, rounded)


def opening_stock_entry(currency: str, quantity: int, unit_cost: Decimal) -> Entry:
    """Stock counted in at opening: inventory against opening-balance equity."""
    value = unit_cost * quantity
    return Entry.of(
        currency, Posting(INVENTORY, debit=value), Posting(OPENING_BALANCE, credit=value)
    )


def canonical(amount: Decimal) -> Decimal:
    """Money as people write it: cents always, more places only when they carry value
    (a column's 10.0000 and a command's 10 both read 10.00)."""
    cents = amount.quantize(CENT)
    return cents if cents == amount else amount.normalize()


# --- payments ---


class PaymentStatus(StrEnum):
    AUTHORIZED = "authorized"
    DECLINED = "declined"
    HELD = "held"  # the provider wants a review before it decides
    CAPTURED = "captured"
    VOIDED = "voided"


class PaymentRefused(ValueError):
    """A payment request that can never succeed against the payment as it stands."""


def check_authorization(amount: Decimal) -> None:
    if amount.quantize(CENT) <= 0:
        raise PaymentRefused(f"an authorization needs an amount of at least one cent, not {amount}")


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
            f"already captured {canonical(captured)} {currency}; an authorization is captured once"
        )
    if status != PaymentStatus.AUTHORIZED:
        raise PaymentRefused(f"a {status} payment cannot be captured, only an authorized one")
    if amount_currency != currency:
        raise PaymentRefused(f"capture in {amount_currency} of a payment authorized in {currency}")
    if amount.quantize(CENT) <= 0:
        raise PaymentRefused(f"a capture needs an amount of at least one cent, not {amount}")
    if amount > authorized:
        raise PaymentRefused(
            f"capture of {canonical(amount)} {currency} exceeds the authorized "
            f"{canonical(authorized)} {currency}"
        )


def capture_entry(currency: str, amount: Decimal) -> Entry:
    """Captured money is cash that settles the customer's receivable.

    The receivable itself (Dr receivable / Cr revenue) is posted by the shipment flow, when the
    sale is earned; until then a capture leaves the receivable in credit, which is what a
    customer's prepayment is.
    """
    return Entry.of(currency, Posting(CASH, debit=amount), Posting(RECEIVABLE, credit=amount))


def sale_entry(currency: str, goods: Decimal, shipping: Decimal) -> Entry:
    """The sale is earned when the goods leave: the customer owes goods and shipping."""
    postings = [Posting(RECEIVABLE, debit=goods + shipping), Posting(SALES_REVENUE, credit=goods)]
    if shipping:
        postings.append(Posting(SHIPPING_INCOME, credit=shipping))
    return Entry.of(currency, *postings)


def cost_of_goods_entry(currency: str, quantity: int, unit_cost: Decimal) -> Entry:
    """Issued stock leaves inventory at its cost and becomes the cost of the goods sold."""
    value = unit_cost * quantity
    return Entry.of(
        currency, Posting(COST_OF_GOODS_SOLD, debit=value), Posting(INVENTORY, credit=value)
    )
