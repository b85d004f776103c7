"""Moving average cost, free of I/O: what receipts add and issues take out of a SKU's value."""

from decimal import Decimal

import pytest

from keel_finance.domain import (
    CurrencyMismatch,
    IssueCost,
    ReturnCost,
    SoldStock,
    StockValue,
    differing_quantities,
    return_cost,
)

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


def test_stock_in_yen_is_valued_issued_and_emptied_in_whole_yen() -> None:
    stock, value = StockValue("JPY", 0, Decimal("0")).receive(3, Decimal("333.3333"), "JPY")
    assert (value, stock) == (Decimal("1000"), StockValue("JPY", 3, Decimal("1000")))
    assert stock.average_cost == Decimal("333.3333")  # a unit cost keeps its four places
    costs = []
    for _ in range(3):
        stock, cost = stock.issue(1, Decimal("0"), "JPY")
        costs.append(str(cost.total))

    assert costs == ["333", "334", "333"]  # 333.33, then 333.5 to the even yen, then the rest
    assert stock == StockValue("JPY", 0, Decimal("0"))


def test_yen_issued_beyond_the_stock_are_costed_in_whole_yen() -> None:
    stock, cost = StockValue("JPY", 0, Decimal("0")).issue(3, Decimal("0.5"), "JPY")
    assert cost == IssueCost("JPY", Decimal("0"), unvalued_quantity=3, unvalued=Decimal("2"))
    assert stock == StockValue("JPY", -3, Decimal("-2"))  # 1.5 yen: half-even to 2


def test_yen_kept_to_the_cent_leave_the_fraction_the_journal_never_posted() -> None:
    # Stock valued before the journal kept yen whole: emptying it takes what the journal posts,
    # and the half yen stays, as it stays in the inventory account.
    stock, cost = StockValue("JPY", 2, Decimal("1000.50")).issue(2, Decimal("0"), "JPY")
    assert (cost.total, stock) == (Decimal("1000"), StockValue("JPY", 0, Decimal("0.50")))


def test_yen_taken_back_and_returned_beyond_the_issues_are_whole_yen() -> None:
    assert SoldStock("JPY", 3, Decimal("1000")).take_back(1) == (1, Decimal("333"))
    cost = return_cost(
        2,
        sold=SoldStock("JPY", 1, Decimal("333")),
        stock=StockValue("JPY", 3, Decimal("1000")),
        unit_cost=Decimal("9.99"),
        currency="JPY",
    )
    assert cost == ReturnCost("JPY", Decimal("666"), at_issue_cost=1)  # 333, and 333.3333 to 333


def test_units_beyond_the_recorded_stock_are_costed_at_the_given_unit_cost() -> None:
    stock, _ = EMPTY.receive(1, Decimal("5.00"), "USD")

    stock, cost = stock.issue(3, Decimal("6.00"), "USD")

    assert cost == IssueCost(
        "USD", valued=Decimal("5.00"), unvalued_quantity=2, unvalued=Decimal("12.00")
    )
    assert cost.total == Decimal("17.00")
    assert stock == StockValue("USD", -2, Decimal("-12.00"))  # owed at the cost posted
    assert stock.average_cost is None


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


def test_an_issue_from_stock_below_zero_is_costed_at_the_given_unit_cost() -> None:
    stock = StockValue("USD", -2, Decimal("-12.00"))

    stock, cost = stock.issue(1, Decimal("7.00"), "USD")

    assert cost == IssueCost("USD", Decimal("0"), unvalued_quantity=1, unvalued=Decimal("7.00"))
    assert stock == StockValue("USD", -3, Decimal("-19.00"))


def test_stock_below_zero_refuses_an_issue_at_another_currency() -> None:
    with pytest.raises(CurrencyMismatch, match="EUR cost beyond stock valued in USD"):
        StockValue("USD", -2, Decimal("-12.00")).issue(1, Decimal("7.00"), "EUR")


def test_a_receipt_into_stock_below_zero_adds_to_what_is_owed() -> None:
    stock, value = StockValue("USD", -2, Decimal("-12.00")).receive(10, Decimal("5.00"), "USD")
    assert value == Decimal("50.00")
    assert stock == StockValue("USD", 8, Decimal("38.00"))
    assert stock.average_cost == Decimal("4.7500")


def test_found_units_come_in_at_the_moving_average_and_leave_it_as_it_was() -> None:
    stock = StockValue("USD", 20, Decimal("60.00"))

    stock, value = stock.find(2, Decimal("9.99"), "EUR")  # the event's cost is not used

    assert value == Decimal("6.00")
    assert stock == StockValue("USD", 22, Decimal("66.00"))
    assert stock.average_cost == Decimal("3.0000")


def test_found_units_with_nothing_on_hand_come_in_at_the_given_cost() -> None:
    stock, value = EMPTY.find(3, Decimal("0.3333"), "EUR")
    assert value == Decimal("1.00")
    assert stock == StockValue("EUR", 3, Decimal("1.00"))


def test_found_units_into_stock_below_zero_make_up_what_is_owed_at_the_given_cost() -> None:
    stock, value = StockValue("USD", -2, Decimal("-12.00")).find(3, Decimal("5.00"), "USD")
    assert value == Decimal("15.00")
    assert stock == StockValue("USD", 1, Decimal("3.00"))
    with pytest.raises(CurrencyMismatch, match="found units at a EUR cost"):
        StockValue("USD", -2, Decimal("-12.00")).find(3, Decimal("5.00"), "EUR")


def test_what_an_order_sold_is_its_issues_less_its_returns() -> None:
    sold = SoldStock.tally(
        [("USD", 3, Decimal("1.00")), ("USD", 2, Decimal("5.00")), ("USD", -1, Decimal("-0.33"))]
    )
    assert sold == SoldStock("USD", 4, Decimal("5.67"))


@pytest.mark.parametrize(
    "moves",
    [[], [("USD", 1, Decimal("1.00")), ("EUR", 1, Decimal("1.00"))]],
    ids=["nothing issued", "two currencies"],
)
def test_no_one_cost_is_known_without_issues_or_across_currencies(
    moves: list[tuple[str, int, Decimal]],
) -> None:
    assert SoldStock.tally(moves) is None


def test_units_taken_back_one_by_one_return_every_cent_issued() -> None:
    sold = SoldStock("USD", 3, Decimal("1.00"))
    values = []
    for _ in range(3):
        covered, value = sold.take_back(1)
        assert covered == 1
        values.append(value)
        sold = SoldStock("USD", sold.quantity - 1, sold.value - value)
    assert values == [Decimal("0.33"), Decimal("0.34"), Decimal("0.33")]
    assert sold.take_back(1) == (0, Decimal("0"))


def test_returned_units_come_back_at_what_their_issue_cost() -> None:
    cost = return_cost(
        2,
        sold=SoldStock("USD", 3, Decimal("7.50")),
        stock=StockValue("USD", 10, Decimal("40.00")),
        unit_cost=Decimal("9.99"),
        currency="USD",
    )
    assert cost == ReturnCost("USD", Decimal("5.00"), at_issue_cost=2)


def test_units_returned_beyond_the_issues_come_back_at_the_moving_average() -> None:
    cost = return_cost(
        3,
        sold=SoldStock("USD", 1, Decimal("2.50")),
        stock=StockValue("USD", 10, Decimal("40.00")),
        unit_cost=Decimal("9.99"),
        currency="USD",
    )
    assert cost == ReturnCost("USD", Decimal("10.50"), at_issue_cost=1)  # 2.50 + 2 x 4.00


def test_units_returned_with_no_issue_cost_nor_stock_come_back_at_the_given_cost() -> None:
    cost = return_cost(
        2,
        sold=None,
        stock=StockValue("USD", -1, Decimal("-6.00")),
        unit_cost=Decimal("3.25"),
        currency="USD",
    )
    assert cost == ReturnCost("USD", Decimal("6.50"), at_issue_cost=0)


def test_quantities_that_differ_are_listed_in_sku_order_with_both_sides() -> None:
    assert differing_quantities({"B": 2, "A": 1, "C": 0}, {"A": 1, "B": 3, "D": 4}) == [
        ("B", 2, 3),
        ("D", 0, 4),
    ]
