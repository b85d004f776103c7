"""Double-entry bookkeeping and payment rules, free of I/O.

An entry is built from (account, debit, credit) lines and refuses to exist unbalanced, so the
journal is balanced by construction rather than by a later check.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
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
    # Contra-revenue: refunds for returned goods, a debit balance netted against the revenue.
    Account("4200", "Sales returns", AccountKind.REVENUE),
    Account("5000", "Cost of goods sold", AccountKind.EXPENSE),
)
ACCOUNTS = {account.code: account for account in CHART_OF_ACCOUNTS}
CASH = "1000"
RECEIVABLE = "1100"
INVENTORY = "1300"
GOODS_RECEIVED_NOT_INVOICED = "2100"
OPENING_BALANCE = "3900"
SALES_REVENUE = "4000"
SHIPPING_INCOME = "4100"
SALES_RETURNS = "4200"
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


def opening_stock_entry(currency: str, value: Decimal) -> Entry:
    """Stock counted in at opening: inventory against opening-balance equity."""
    return Entry.of(
        currency, Posting(INVENTORY, debit=value), Posting(OPENING_BALANCE, credit=value)
    )


def purchase_receipt_entry(currency: str, value: Decimal) -> Entry:
    """Goods received against a purchase order: inventory against goods received not invoiced,
    the liability the supplier's invoice later turns into a payable."""
    return Entry.of(
        currency,
        Posting(INVENTORY, debit=value),
        Posting(GOODS_RECEIVED_NOT_INVOICED, credit=value),
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
    if requested.quantize(CENT) <= 0:
        raise PaymentRefused(f"a refund needs an amount of at least one cent, not {requested}")
    # Refunds are whole cents, so the journal posts exactly what is recorded; a sub-cent left
    # over from a capture is never refunded.
    left = (captured - refunded).quantize(CENT, rounding=ROUND_DOWN)
    if left <= 0:
        raise PaymentRefused(
            f"the captured {canonical(captured)} {currency} is already refunded in full"
        )
    return min(requested.quantize(CENT), left)


def refund_entry(currency: str, amount: Decimal) -> Entry:
    """Money refunded for returned goods: a sales return (contra-revenue) paid out in cash."""
    return Entry.of(currency, Posting(SALES_RETURNS, debit=amount), Posting(CASH, credit=amount))


def sale_entry(currency: str, goods: Decimal, shipping: Decimal) -> Entry:
    """The sale is earned when the goods leave: the customer owes goods and shipping."""
    postings = [Posting(RECEIVABLE, debit=goods + shipping), Posting(SALES_REVENUE, credit=goods)]
    if shipping:
        postings.append(Posting(SHIPPING_INCOME, credit=shipping))
    return Entry.of(currency, *postings)


def cost_of_goods_entry(currency: str, cost: Decimal) -> Entry:
    """Issued stock leaves inventory at its cost and becomes the cost of the goods sold."""
    return Entry.of(
        currency, Posting(COST_OF_GOODS_SOLD, debit=cost), Posting(INVENTORY, credit=cost)
    )


# --- inventory valuation at moving average cost ---

AVERAGE_COST_PLACES = Decimal("0.0001")  # as precise as a unit cost on the wire


def to_cents(amount: Decimal) -> Decimal:
    # Half-even, Decimal's default: it is the rounding Entry.of applies, so an amount rounded here
    # is posted unchanged, and over many issues it rounds up as often as down, so the rounding
    # left in a SKU's value does not drift one way.
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


class CurrencyMismatch(ValueError):
    """A cost in one currency met stock valued in another: finance has no rate to convert."""


@dataclass(frozen=True)
class IssueCost:
    """What issued units cost: `valued` comes out of the valuation; `unvalued` is the event's own
    unit cost for units the valuation never recorded (stock from before it, or out of order)."""

    currency: str
    valued: Decimal
    unvalued_quantity: int
    unvalued: Decimal

    @property
    def total(self) -> Decimal:
        return self.valued + self.unvalued


@dataclass(frozen=True)
class StockValue:
    """A SKU's units on hand and what they cost, in cents, at moving average cost.

    The value is kept, not the average: an issue takes value x issued / on hand rounded to cents
    and the last unit takes whatever is left, so the value is always exactly what receipts added
    less what issues posted, and the inventory account can be reconciled to the cent.
    """

    currency: str
    quantity: int
    value: Decimal

    @property
    def average_cost(self) -> Decimal | None:
        if not self.quantity:
            return None
        return (self.value / self.quantity).quantize(AVERAGE_COST_PLACES, ROUND_HALF_EVEN)

    def receive(
        self, quantity: int, unit_cost: Decimal, currency: str
    ) -> tuple[StockValue, Decimal]:
        """The stock after a receipt, and the receipt's value (what the journal debits)."""
        if self.quantity and currency != self.currency:
            raise CurrencyMismatch(
                f"a receipt at a {currency} cost for stock valued in {self.currency}"
            )
        amount = to_cents(unit_cost * quantity)
        return StockValue(currency, self.quantity + quantity, self.value + amount), amount

    def issue(
        self, quantity: int, unit_cost: Decimal, currency: str
    ) -> tuple[StockValue, IssueCost]:
        """The stock after an issue, and what the issue cost.

        Units beyond those on hand are costed at the event's `unit_cost` rather than driving the
        stock negative: a negative quantity would have no meaningful average to cost later
        issues at.
        """
        valued_quantity = min(quantity, self.quantity)
        unvalued_quantity = quantity - valued_quantity
        if valued_quantity and unvalued_quantity and currency != self.currency:
            raise CurrencyMismatch(
                f"an issue at a {currency} cost beyond stock valued in {self.currency}"
            )
        if valued_quantity == self.quantity:
            valued = self.value  # the stock is emptied: no stray cents stay behind
        else:
            valued = to_cents(self.value * valued_quantity / self.quantity)
        cost = IssueCost(
            currency=self.currency if valued_quantity else currency,
            valued=valued,
            unvalued_quantity=unvalued_quantity,
            unvalued=to_cents(unit_cost * unvalued_quantity),
        )
        remaining = StockValue(self.currency, self.quantity - valued_quantity, self.value - valued)
        return remaining, cost
