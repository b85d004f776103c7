"""Moving average cost, free of I/O: what receipts add and issues take out of a SKU's value."""

from decimal import Decimal

import pytest

from keel_finance.domain import CurrencyMismatch, IssueCost, StockValue

pytestmark = pytest.mark.unit

EMPTY = StockValue("USD", 0, Decimal("0"))


def test_a_receipt_adds_its_units_at_their_cost_rounded_to_cents() -> None:
    stock, value = EMPTY.receive(3, Decimal("0.3333"), "USD")
    assert value == Decimal("1.00")
    assert stock == StockValue("USD", 3, Decimal("1.00"))


def test_an_issue_is_costed_at_the_weighted_average_of_the_receipts() -> None:
    stock, _ = EMPTY.receive(10, Decimal("2.00"), "USD")
    stock, _ = stock.receive(30, Decimal("3.00"), "USD")
    assert stock.average_cost == Decimal("2.7500")

    stock, cost = stock.issue(3, Decimal("9.99"), "USD")

    assert cost == IssueCost("USD", Decimal("8.25"), unvalued_quantity=0, unvalued=Decimal("0.00"))
    assert stock == StockValue("USD", 37, Decimal("101.75"))


def test_an_issue_between_cents_rounds_half_to_even() -> None:
    stock = StockValue("USD", 2, Decimal("0.67"))  # 0.335 a unit
    _, cost = stock.issue(1, Decimal("0"), "USD")
    assert cost.valued == Decimal("0.34")
    _, cost = StockValue("USD", 2, Decimal("0.65")).issue(1, Decimal("0"), "USD")  # 0.325
    assert cost.valued == Decimal("0.32")


def test_issuing_the_last_units_takes_every_remaining_cent() -> None:
    stock, _ = EMPTY.receive(3, Decimal("0.3333"), "USD")
    costs = []
    for _ in range(3):
        stock, cost = stock.issue(1, Decimal("5.00"), "USD")
        costs.append(cost.total)

    assert costs == [Decimal("0.33"), Decimal("0.34"), Decimal("0.33")]
    assert stock == StockValue("USD", 0, Decimal("0.00"))
    assert stock.average_cost is None


def test_units_beyond_the_recorded_stock_are_costed_at_the_given_unit_cost() -> None:
    stock, _ = EMPTY.receive(1, Decimal("5.00"), "USD")

    stock, cost = stock.issue(3, Decimal("6.00"), "USD")

    assert cost == IssueCost(
        "USD", valued=Decimal("5.00"), unvalued_quantity=2, unvalued=Decimal("12.00")
    )
    assert cost.total == Decimal("17.00")
    assert stock == StockValue("USD", 0, Decimal("0.00"))


def test_stock_valued_in_one_currency_refuses_a_receipt_in_another() -> None:
    stock, _ = EMPTY.receive(1, Decimal("5.00"), "USD")
    with pytest.raises(CurrencyMismatch, match="EUR cost for stock valued in USD"):
        stock.receive(1, Decimal("5.00"), "EUR")


def test_empty_stock_takes_the_currency_of_its_next_receipt() -> None:
    stock, _ = StockValue("USD", 0, Decimal("0.00")).receive(2, Decimal("1.50"), "EUR")
    assert stock == StockValue("EUR", 2, Decimal("3.00"))


def test_an_issue_covered_by_the_stock_is_costed_in_the_stock_currency() -> None:
    stock = StockValue("USD", 4, Decimal("10.00"))
    _, cost = stock.issue(2, Decimal("9.00"), "EUR")
    assert (cost.currency, cost.total) == ("USD", Decimal("5.00"))
    with pytest.raises(CurrencyMismatch):
        stock.issue(5, Decimal("9.00"), "EUR")  # the fifth unit would mix currencies
