"""Double-entry bookkeeping, free of I/O.

An entry is built from (account, debit, credit) lines and refuses to exist unbalanced, so the
journal is balanced by construction rather than by a later check.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from keel_contracts import money

ZERO = Decimal("0")


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
    # Returned goods written off at inspection: a loss of its own, not a cost of the goods sold.
    Account("5800", "Inventory write-offs", AccountKind.EXPENSE),
    # Units a count or a person found missing (or found again) in stock: what stock on the books
    # and stock on the shelves differ by, kept apart from returns written off at inspection.
    Account("5810", "Inventory shrinkage", AccountKind.EXPENSE),
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
INVENTORY_WRITE_OFFS = "5800"
INVENTORY_SHRINKAGE = "5810"


class UnbalancedEntry(ValueError):
    pass


@dataclass(frozen=True)
class Posting:
    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO


@dataclass(frozen=True)
class Entry:
    """A balanced set of postings in one currency, each rounded as a journal line of that
    currency is (`keel_contracts.money.posting`: to the cent, or to the whole yen)."""

    currency: str
    postings: tuple[Posting, ...]

    @classmethod
    def of(cls, currency: str, *postings: Posting) -> Entry:
        rounded = tuple(
            Posting(p.account, money.posting(p.debit, currency), money.posting(p.credit, currency))
            for p in postings
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


def sale_entry(currency: str, goods: Decimal, shipping: Decimal) -> Entry:
    """The sale is earned when the goods leave: the customer owes goods and shipping."""
    postings = [Posting(RECEIVABLE, debit=goods + shipping), Posting(SALES_REVENUE, credit=goods)]
    if shipping:
        postings.append(Posting(SHIPPING_INCOME, credit=shipping))
    return Entry.of(currency, *postings)


def cost_of_goods_entry(currency: str, cost: Decimal) -> Entry:
    """Issued stock leaves inventory at its cost and becomes the cost of the goods sold."""
    return _cost_moved(currency, cost, into=COST_OF_GOODS_SOLD, out_of=INVENTORY)


def returned_goods_entry(currency: str, cost: Decimal) -> Entry:
    """Returned goods come back into inventory at the cost they left at: the cost of goods sold
    that their issue posted is taken back."""
    return _cost_moved(currency, cost, into=INVENTORY, out_of=COST_OF_GOODS_SOLD)


def write_off_entry(currency: str, cost: Decimal) -> Entry:
    """Stock written off leaves inventory as a loss."""
    return _cost_moved(currency, cost, into=INVENTORY_WRITE_OFFS, out_of=INVENTORY)


def _cost_moved(currency: str, cost: Decimal, *, into: str, out_of: str) -> Entry:
    """A cost moved out of one account into another. A cost below zero moves the other way, as
    postings are never negative: stock issued beyond what was valued was costed at the item's
    cost, and if it was restocked for less, the last units on hand carry the difference back
    (the valuation holds a negative value), which returns to the cost of goods sold."""
    if cost < 0:
        into, out_of, cost = out_of, into, -cost
    return Entry.of(currency, Posting(into, debit=cost), Posting(out_of, credit=cost))


def shrinkage_entry(currency: str, change: Decimal) -> Entry:
    """Stock found to differ from the books changes inventory by `change`: units lost (below
    zero) leave it as shrinkage, units found (above zero) come back into it and reduce the
    shrinkage, so a loss later found again nets out to nothing."""
    if change < 0:
        return Entry.of(
            currency,
            Posting(INVENTORY_SHRINKAGE, debit=-change),
            Posting(INVENTORY, credit=-change),
        )
    return Entry.of(
        currency, Posting(INVENTORY, debit=change), Posting(INVENTORY_SHRINKAGE, credit=change)
    )
