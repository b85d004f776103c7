"""The door bounds themselves: each one holds what it says it protects."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from keel_contracts.limits import (
    AMOUNT_CEILING,
    MAX_AMOUNT,
    MAX_QUANTITY,
    MAX_UNIT_AMOUNT,
    MAX_UNIT_PRICE,
    BusinessDate,
    places,
    price_places,
    printable,
)
from keel_contracts.values import Money, Quantity

pytestmark = pytest.mark.unit


def test_a_full_line_at_the_dearest_unit_cost_is_one_amount_the_wire_carries() -> None:
    assert MAX_UNIT_AMOUNT * MAX_QUANTITY <= MAX_AMOUNT
    assert Money(amount=MAX_UNIT_AMOUNT * MAX_QUANTITY, currency="USD").amount > 0
    assert Money(amount=MAX_AMOUNT, currency="USD").amount == MAX_AMOUNT
    assert MAX_UNIT_PRICE <= MAX_UNIT_AMOUNT


def test_the_wire_amount_refuses_the_ceiling_the_bounds_keep_below() -> None:
    with pytest.raises(ValidationError):
        Money(amount=AMOUNT_CEILING, currency="USD")


def test_the_line_quantity_is_the_contracts_own() -> None:
    adapter = TypeAdapter(Quantity)
    assert adapter.validate_python(MAX_QUANTITY) == MAX_QUANTITY
    with pytest.raises(ValidationError):
        adapter.validate_python(MAX_QUANTITY + 1)


@pytest.mark.parametrize(
    ("currency", "allowed"),
    [("JPY", 0), ("KRW", 0), ("USD", 2), ("EUR", 2), ("KWD", 2), ("XTS", 2)],
)
def test_a_price_has_its_currency_s_places_never_more_than_the_journal_s(
    currency: str, allowed: int
) -> None:
    assert price_places(currency) == allowed


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("10", 0), ("10.00", 0), ("10.50", 1), ("0.0001", 4), ("1E+3", 0), ("1.2300", 2)],
)
def test_places_ignores_trailing_zeros(amount: str, expected: int) -> None:
    assert places(Decimal(amount)) == expected


@pytest.mark.parametrize(
    "text", ["a\x00b", "tab\there", "new\nline", "del\x7f", "nel\x85", "\ud800"]
)
def test_control_characters_and_lone_surrogates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="control characters"):
        printable(text)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_text_without_control_characters_passes_unchanged(text: str) -> None:
    controls = [c for c in text if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]
    if controls:
        with pytest.raises(ValueError, match="control characters"):
            printable(text)
    else:
        assert printable(text) == text


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "3000-01-01", "9999-12-31"])
def test_a_business_date_outside_2000_to_2999_is_refused(day: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(BusinessDate).validate_python(day)


@pytest.mark.parametrize("day", ["2000-01-01", "2026-12-06", "2999-12-31"])
def test_a_business_date_inside_the_range_passes(day: str) -> None:
    assert TypeAdapter(BusinessDate).validate_python(day).isoformat() == day
