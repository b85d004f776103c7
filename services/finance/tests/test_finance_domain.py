import re
from decimal import Decimal
from typing import Any

import pytest

from keel_finance.domain import (
    Entry,
    PaymentRefused,
    Posting,
    UnbalancedEntry,
    capture_entry,
    check_authorization,
    check_capture,
    cost_of_goods_entry,
    opening_stock_entry,
    purchase_receipt_entry,
    refund_entry,
    refundable,
    returned_goods_entry,
    sale_entry,
    shrinkage_entry,
    write_off_entry,
)

pytestmark = pytest.mark.unit


def test_opening_stock_is_inventory_against_opening_balance() -> None:
    entry = opening_stock_entry("USD", Decimal("3.75"))
    assert entry.postings == (
        Posting("1300", debit=Decimal("3.75"), credit=Decimal("0.00")),
        Posting("3900", debit=Decimal("0.00"), credit=Decimal("3.75")),
    )


def test_a_purchase_receipt_is_inventory_against_goods_received_not_invoiced() -> None:
    entry = purchase_receipt_entry("USD", Decimal("12.50"))
    assert entry.postings == (
        Posting("1300", debit=Decimal("12.50"), credit=Decimal("0.00")),
        Posting("2100", debit=Decimal("0.00"), credit=Decimal("12.50")),
    )


def test_lost_units_are_shrinkage_against_inventory() -> None:
    entry = shrinkage_entry("USD", Decimal("-9.00"))
    assert entry.postings == (
        Posting("5810", debit=Decimal("9.00"), credit=Decimal("0.00")),
        Posting("1300", debit=Decimal("0.00"), credit=Decimal("9.00")),
    )


def test_found_units_are_inventory_against_shrinkage() -> None:
    entry = shrinkage_entry("USD", Decimal("6.00"))
    assert entry.postings == (
        Posting("1300", debit=Decimal("6.00"), credit=Decimal("0.00")),
        Posting("5810", debit=Decimal("0.00"), credit=Decimal("6.00")),
    )


@pytest.mark.parametrize(
    ("entry_of", "into", "out_of"),
    [
        (cost_of_goods_entry, "5000", "1300"),
        (returned_goods_entry, "1300", "5000"),
        (write_off_entry, "5800", "1300"),
    ],
)
def test_a_cost_below_zero_moves_the_other_way(entry_of: Any, into: str, out_of: str) -> None:
    """Stock restocked below what its owed units were costed at carries a negative value: the
    entry that takes it out moves the difference back instead of refusing to post."""
    assert entry_of("USD", Decimal("4.00")).postings == (
        Posting(into, debit=Decimal("4.00"), credit=Decimal("0.00")),
        Posting(out_of, debit=Decimal("0.00"), credit=Decimal("4.00")),
    )
    assert entry_of("USD", Decimal("-4.00")).postings == (
        Posting(out_of, debit=Decimal("4.00"), credit=Decimal("0.00")),
        Posting(into, debit=Decimal("0.00"), credit=Decimal("4.00")),
    )


def test_an_unbalanced_entry_cannot_be_built() -> None:
    with pytest.raises(UnbalancedEntry, match="debits"):
        Entry.of("USD", Posting("1300", debit=Decimal("1")), Posting("3900", credit=Decimal("2")))


def test_an_entry_on_an_unknown_account_cannot_be_built() -> None:
    with pytest.raises(UnbalancedEntry, match="unknown account"):
        Entry.of("USD", Posting("9999", debit=Decimal("1")), Posting("3900", credit=Decimal("1")))


def test_an_entry_that_moves_nothing_cannot_be_built() -> None:
    with pytest.raises(UnbalancedEntry, match="move some money"):
        Entry.of("USD", Posting("1300"), Posting("3900"))


def test_amounts_are_rounded_to_cents_before_balancing() -> None:
    entry = opening_stock_entry("USD", Decimal("0.9999"))
    assert entry.postings[0].debit == Decimal("1.00")


def test_amounts_in_yen_are_posted_in_whole_yen() -> None:
    entry = opening_stock_entry("JPY", Decimal("333.3333"))
    assert entry.postings == (
        Posting("1300", debit=Decimal("333"), credit=Decimal("0")),
        Posting("3900", debit=Decimal("0"), credit=Decimal("333")),
    )
    assert [str(p.debit) for p in entry.postings] == ["333", "0"]


def test_a_sale_in_yen_that_only_balances_in_fractions_of_a_yen_cannot_be_built() -> None:
    # 0.5 + 0.5 yen is 1 yen owed against 0 + 0 yen earned (half-even): a door that let a price
    # finer than the currency through would be caught here.
    with pytest.raises(UnbalancedEntry, match="debits 1 != credits 0"):
        sale_entry("JPY", Decimal("0.5"), Decimal("0.5"))


def test_a_capture_is_cash_against_the_receivable() -> None:
    entry = capture_entry("USD", Decimal("30"))
    assert entry.postings == (
        Posting("1000", debit=Decimal("30.00"), credit=Decimal("0.00")),
        Posting("1100", debit=Decimal("0.00"), credit=Decimal("30.00")),
    )


def capture(status: str = "authorized", amount: str = "10.00", currency: str = "USD") -> None:
    check_capture(
        status=status,
        authorized=Decimal("10.00"),
        captured=Decimal("0"),
        currency="USD",
        amount=Decimal(amount),
        amount_currency=currency,
    )


def test_capture_of_the_authorized_amount_or_less_passes() -> None:
    capture(amount="10.00")
    capture(amount="0.01")


@pytest.mark.parametrize(
    ("status", "amount", "currency", "reason"),
    [
        ("authorized", "10.0001", "USD", "exceeds the authorized 10.00 USD"),
        ("authorized", "5.00", "EUR", "capture in EUR of a payment authorized in USD"),
        ("authorized", "0.00", "USD", "at least 0.01 USD"),
        ("authorized", "-1.00", "USD", "at least 0.01 USD"),
        ("declined", "5.00", "USD", "a declined payment cannot be captured"),
        ("held", "5.00", "USD", "a held payment cannot be captured"),
        ("voided", "5.00", "USD", "a voided payment cannot be captured"),
        ("captured", "5.00", "USD", "already captured"),
    ],
)
def test_capture_that_can_never_succeed_is_refused(
    status: str, amount: str, currency: str, reason: str
) -> None:
    with pytest.raises(PaymentRefused, match=re.escape(reason)):
        capture(status, amount, currency)


def test_an_authorization_needs_at_least_a_cent() -> None:
    check_authorization(Decimal("0.01"), "USD")
    with pytest.raises(PaymentRefused, match=r"at least 0\.01 USD"):
        check_authorization(Decimal("0.004"), "USD")


def test_an_authorization_in_yen_needs_at_least_a_yen() -> None:
    check_authorization(Decimal("1"), "JPY")
    with pytest.raises(PaymentRefused, match=r"at least 1 JPY, not 0\.4"):
        check_authorization(Decimal("0.4"), "JPY")


def refundable_of(requested: str, *, refunded: str = "0", status: str = "captured") -> Decimal:
    return refundable(
        status=status,
        captured=Decimal("45.00"),
        refunded=Decimal(refunded),
        currency="USD",
        requested=Decimal(requested),
        requested_currency="USD",
    )


def test_a_refund_within_the_capture_is_refunded_in_full() -> None:
    assert refundable_of("20.00") == Decimal("20.00")


def test_a_refund_beyond_what_is_left_is_capped_at_it() -> None:
    assert refundable_of("30.00", refunded="20.00") == Decimal("25.00")


def test_a_payment_not_captured_has_nothing_to_refund() -> None:
    with pytest.raises(PaymentRefused, match="authorized payment has nothing captured"):
        refundable_of("20.00", status="authorized")


def test_a_payment_refunded_in_full_has_nothing_left_to_refund() -> None:
    with pytest.raises(PaymentRefused, match="already refunded in full"):
        refundable_of("1.00", refunded="45.00")


def test_a_refund_is_sales_returns_against_cash() -> None:
    assert refund_entry("USD", Decimal("20")).postings == (
        Posting("4200", debit=Decimal("20.00"), credit=Decimal("0.00")),
        Posting("1000", debit=Decimal("0.00"), credit=Decimal("20.00")),
    )


def refundable_in_yen(requested: str, *, captured: str, refunded: str = "0") -> Decimal:
    return refundable(
        status="captured",
        captured=Decimal(captured),
        refunded=Decimal(refunded),
        currency="JPY",
        requested=Decimal(requested),
        requested_currency="JPY",
    )


def test_a_refund_in_yen_is_whole_yen_and_never_more_than_is_left() -> None:
    assert str(refundable_in_yen("400.5", captured="1000")) == "400"  # posted half-even
    assert str(refundable_in_yen("700", captured="1000.6", refunded="400")) == "600"  # capped down
    with pytest.raises(PaymentRefused, match="already refunded in full"):
        refundable_in_yen("1", captured="1000.6", refunded="1000")
