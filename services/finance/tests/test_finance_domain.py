from decimal import Decimal

import pytest

from keel_finance.domain import Entry, Posting, UnbalancedEntry, opening_stock_entry

pytestmark = pytest.mark.unit


def test_opening_stock_is_inventory_against_opening_balance() -> None:
    entry = opening_stock_entry("USD", 3, Decimal("1.25"))
    assert entry.postings == (
        Posting("1300", debit=Decimal("3.75"), credit=Decimal("0.00")),
        Posting("3900", debit=Decimal("0.00"), credit=Decimal("3.75")),
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
    entry = opening_stock_entry("USD", 3, Decimal("0.3333"))
    assert entry.postings[0].debit == Decimal("1.00")
