"""Double-entry bookkeeping rules, free of I/O.

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
INVENTORY = "1300"
OPENING_BALANCE = "3900"


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
