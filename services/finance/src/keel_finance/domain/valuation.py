"""Inventory valuation at moving average cost, free of I/O: what receipts add, issues take out
and returns bring back of a SKU's value, and how it is compared with inventory's stock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from keel_contracts import money
from keel_finance.domain.ledger import ZERO


class CurrencyMismatch(ValueError):
    """A cost in one currency met stock valued in another: finance has no rate to convert."""


@dataclass(frozen=True)
class IssueCost:
    """What issued units cost: `valued` comes out of the units on hand at their average; `unvalued`
    is the event's own unit cost for units beyond them (stock from before finance valued it, or
    events out of order)."""

    currency: str
    valued: Decimal
    unvalued_quantity: int
    unvalued: Decimal

    @property
    def total(self) -> Decimal:
        return self.valued + self.unvalued


@dataclass(frozen=True)
class StockValue:
    """A SKU's units on hand and what they cost, at moving average cost, to the places the
    journal keeps in its currency (cents, whole yen).

    The value is kept, not the average: an issue takes value x issued / on hand rounded as the
    journal line that posts it (`money.posting`) and the last unit takes whatever is left, so the
    value is always exactly what receipts and returns added less what issues took out, and the
    SKUs' values add up to the inventory account to the cent.

    That holds for units issued beyond those on hand too: they are costed at the event's unit
    cost and taken out all the same, so the quantity goes below zero with their value. The
    valuation then owes those units at that cost until receipts make up for them, and it is the
    quantity, not the money, that disagrees with inventory's.
    """

    currency: str
    quantity: int
    value: Decimal

    @property
    def empty(self) -> bool:
        return not self.quantity and not self.value

    @property
    def average_cost(self) -> Decimal | None:
        if self.quantity <= 0:
            return None  # nothing on hand: there is no average to speak of
        return money.unit_cost(self.value / self.quantity)

    def add(self, quantity: int, value: Decimal, currency: str, *, what: str) -> StockValue:
        """The stock with `quantity` units worth `value` (as posted) added; `what` names them in
        the refusal of a cost in another currency than the stock's. Empty stock takes any
        currency."""
        if not self.empty and currency != self.currency:
            raise CurrencyMismatch(
                f"{what} at a {currency} cost for stock valued in {self.currency}"
            )
        return StockValue(currency, self.quantity + quantity, self.value + value)

    def receive(
        self, quantity: int, unit_cost: Decimal, currency: str
    ) -> tuple[StockValue, Decimal]:
        """The stock after a receipt, and the receipt's value (what the journal debits)."""
        amount = money.posting(unit_cost * quantity, currency)
        return self.add(quantity, amount, currency, what="a receipt"), amount

    def find(self, quantity: int, unit_cost: Decimal, currency: str) -> tuple[StockValue, Decimal]:
        """The stock after units found on the shelf are added, and their value (what the journal
        debits). They are the same goods as those on hand, so they come in at the moving average
        cost and leave it as it was; only with no units on hand to average (none, or fewer than
        none) at `unit_cost` (the event's, the item master's)."""
        average = self.average_cost
        if average is not None:
            unit_cost, currency = average, self.currency
        amount = money.posting(unit_cost * quantity, currency)
        return self.add(quantity, amount, currency, what="found units"), amount

    def issue(
        self, quantity: int, unit_cost: Decimal, currency: str
    ) -> tuple[StockValue, IssueCost]:
        """The stock after an issue, and what the issue cost.

        An issue is never refused for want of stock (the goods have left either way): units
        beyond those on hand are costed at the event's `unit_cost` and drive the stock negative.
        """
        valued_quantity = max(0, min(quantity, self.quantity))
        unvalued_quantity = quantity - valued_quantity
        if unvalued_quantity and not self.empty and currency != self.currency:
            raise CurrencyMismatch(
                f"an issue at a {currency} cost beyond stock valued in {self.currency}"
            )
        if not valued_quantity:
            valued = ZERO
        elif valued_quantity == self.quantity:
            # The stock is emptied: no stray cents stay behind. Rounded all the same, as it is
            # posted: a yen value kept to cents before the journal kept yen whole leaves behind
            # the fraction the account keeps too.
            valued = money.posting(self.value, self.currency)
        else:
            valued = money.posting(self.value * valued_quantity / self.quantity, self.currency)
        cost_currency = currency if self.empty else self.currency
        cost = IssueCost(
            currency=cost_currency,
            valued=valued,
            unvalued_quantity=unvalued_quantity,
            unvalued=money.posting(unit_cost * unvalued_quantity, cost_currency),
        )
        remaining = StockValue(cost.currency, self.quantity - quantity, self.value - cost.total)
        return remaining, cost


@dataclass(frozen=True)
class SoldStock:
    """Units of one SKU that an order's issues took out of stock and its returns have not brought
    back, and what finance costed them at."""

    currency: str
    quantity: int
    value: Decimal

    @classmethod
    def tally(cls, moves: Iterable[tuple[str, int, Decimal]]) -> SoldStock | None:
        """The order's issues of the SKU (currency, units, cost) less its returns (the same,
        negative). None without any, or if they were costed in more than one currency: there is
        then no one cost to take units back at."""
        moves = list(moves)
        currencies = {currency for currency, _, _ in moves}
        if len(currencies) != 1:
            return None
        return cls(
            currencies.pop(),
            sum(quantity for _, quantity, _ in moves),
            sum((value for _, _, value in moves), ZERO),
        )

    def take_back(self, quantity: int) -> tuple[int, Decimal]:
        """How many of `quantity` returned units these cover, and their value: their share of
        what is left, the last units taking every remaining cent (as an issue from stock does)."""
        covered = max(0, min(quantity, self.quantity))
        if not covered:
            return 0, ZERO
        if covered == self.quantity:
            return covered, money.posting(self.value, self.currency)
        return covered, money.posting(self.value * covered / self.quantity, self.currency)


@dataclass(frozen=True)
class ReturnCost:
    """What returned units come back at; `at_issue_cost` of them at what their issue cost."""

    currency: str
    value: Decimal
    at_issue_cost: int


def return_cost(
    quantity: int,
    *,
    sold: SoldStock | None,
    stock: StockValue,
    unit_cost: Decimal,
    currency: str,
) -> ReturnCost:
    """Returned units come back into stock at the cost they left at.

    That is what finance costed the order's issues of the SKU at, for as many units as those
    issues took out and earlier returns have not brought back. Units beyond are valued at the
    SKU's moving average cost or, with nothing on hand to average, at `unit_cost` (the event's,
    inventory's item cost).
    """
    covered, value = (0, ZERO) if sold is None else sold.take_back(quantity)
    if sold is not None and covered == quantity:
        return ReturnCost(sold.currency, value, covered)
    average = stock.average_cost
    if average is not None:
        unit_cost, currency = average, stock.currency
    if sold is not None and covered and currency != sold.currency:
        raise CurrencyMismatch(
            f"units returned beyond the order's issues at a {currency} cost, "
            f"the issued ones at {sold.currency}"
        )
    beyond = money.posting(unit_cost * (quantity - covered), currency)
    return ReturnCost(currency, value + beyond, covered)


def differing_quantities(
    finance: Mapping[str, int], inventory: Mapping[str, int]
) -> list[tuple[str, int, int]]:
    """(sku, finance's quantity, inventory's) for every SKU either side knows whose quantities
    differ, in SKU order; a SKU one side does not know has none there."""
    return [
        (sku, finance.get(sku, 0), inventory.get(sku, 0))
        for sku in sorted(finance.keys() | inventory.keys())
        if finance.get(sku, 0) != inventory.get(sku, 0)
    ]
