"""Money's rules: each currency's places, and each use's rounding on the cases that tell them
apart (a half, a negative amount)."""

from decimal import Decimal

import pytest

from keel_contracts.limits import minor_units
from keel_contracts.money import (
    cap,
    charge,
    least,
    ledger_places,
    ledger_total,
    posting,
    shown,
    shown_money,
    unit_cost,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("currency", "minor", "ledger", "smallest"),
    [
        ("JPY", 0, 0, "1"),
        ("USD", 2, 2, "0.01"),
        ("KWD", 3, 2, "0.01"),  # the journal keeps two places
        ("XTS", 2, 2, "0.01"),  # a code Keel does not list
    ],
)
def test_a_currency_has_its_iso_minor_units_and_the_ledger_keeps_at_most_two(
    currency: str, minor: int, ledger: int, smallest: str
) -> None:
    assert (minor_units(currency), ledger_places(currency)) == (minor, ledger)
    assert str(least(currency)) == smallest


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "USD", "0.12"),  # a half goes to the even neighbour
        ("0.135", "USD", "0.14"),
        ("-0.125", "USD", "-0.12"),
        ("333.5", "JPY", "334"),
        ("332.5", "JPY", "332"),
        ("333.3333", "JPY", "333"),
        ("1.2345", "KWD", "1.23"),  # three minor units, two in the ledger
        ("0.004", "USD", "0.00"),
    ],
)
def test_a_posting_rounds_half_even_to_the_ledger_places_of_its_currency(
    amount: str, currency: str, expected: str
) -> None:
    assert str(posting(Decimal(amount), currency)) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "USD", "0.13"),  # a half goes up
        ("0.135", "USD", "0.14"),
        ("-0.125", "USD", "-0.13"),  # away from zero
        ("332.5", "JPY", "333"),
        ("1.0049", "KWD", "1.00"),
    ],
)
def test_a_charge_rounds_half_up(amount: str, currency: str, expected: str) -> None:
    assert str(charge(Decimal(amount), currency)) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.129", "USD", "0.12"),
        ("0.125", "USD", "0.12"),
        ("-0.121", "USD", "-0.13"),  # never above the exact amount, negative or not
        ("999.99", "JPY", "999"),
        ("1.0099", "KWD", "1.00"),
        ("24.99", "USD", "24.99"),  # exact amounts stay
    ],
)
def test_a_cap_is_never_more_than_the_exact_amount(
    amount: str, currency: str, expected: str
) -> None:
    capped = cap(Decimal(amount), currency)
    assert str(capped) == expected
    assert capped <= Decimal(amount)


def test_the_three_roundings_differ_on_a_half() -> None:
    half = Decimal("2.5")
    rounded = [(posting(x, "JPY"), charge(x, "JPY"), cap(x, "JPY")) for x in (half, -half)]
    assert [tuple(map(str, r)) for r in rounded] == [("2", "3", "2"), ("-2", "-3", "-3")]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal(1) / 3, "0.3333"),
        (Decimal("2.00005"), "2.0000"),  # half-even
        (Decimal("2.00015"), "2.0002"),
        (Decimal("1000") / 3, "333.3333"),  # the same places in yen: a fraction is a real cost
        (Decimal("-0.00005"), "-0.0000"),
    ],
)
def test_a_unit_cost_keeps_four_places_in_any_currency(amount: Decimal, expected: str) -> None:
    assert str(unit_cost(amount)) == expected


def test_a_ledger_total_drops_the_noise_of_a_float_sum() -> None:
    assert ledger_total(Decimal("101.75000000000001")) == Decimal("101.75")
    assert ledger_total(Decimal("-0.004999999")) == 0
    assert str(ledger_total(Decimal("333"))) == "333.00"


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        ("10", "USD", "10.00"),
        ("10.0000", "USD", "10.00"),
        ("10.5", "USD", "10.50"),
        ("10.1250", "USD", "10.125"),
        ("3.1250", "USD", "3.125"),
        ("0.3333", "USD", "0.3333"),
        ("-12", "USD", "-12.00"),
        ("333", "USD", "333.00"),
        ("333.00", "JPY", "333"),  # a journal column's two places: yen are whole
        ("333.3333", "JPY", "333.3333"),  # a unit cost's fraction of a yen is a real cost
        ("-1500.0000", "JPY", "-1500"),
        ("1.50", "KWD", "1.500"),  # a dinar has three places, though the journal keeps two
        ("0.1234", "KWD", "0.1234"),
        ("7", "XTS", "7.00"),  # a code Keel does not list has two
    ],
)
def test_an_amount_is_shown_with_its_currency_s_places_and_only_meaningful_extra_ones(
    amount: str, currency: str, written: str
) -> None:
    shown_amount = shown(Decimal(amount), currency)
    assert str(shown_amount) == written
    assert shown_amount == Decimal(amount)


def test_shown_money_carries_the_amount_as_shown_with_its_currency() -> None:
    carried = shown_money(Decimal("333.00"), "JPY")
    assert (str(carried.amount), carried.currency) == ("333", "JPY")
    assert carried.model_dump(mode="json") == {"amount": "333", "currency": "JPY"}
