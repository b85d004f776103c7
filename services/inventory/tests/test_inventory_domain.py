"""Unit tests: how a reservation picks its locations, and how the backorder queue is served."""

from datetime import date
from decimal import Decimal

import pytest

from keel_inventory.channel_rules import EVERY_SKU, ChannelBook, ChannelRule, effective_rules, room
from keel_inventory.domain import Pick, Stock, allocate, allocate_in_turn, available, merge_lines
from keel_inventory.promises import Inbound, promise

pytestmark = pytest.mark.unit


def test_one_location_that_covers_every_line_is_preferred_over_more_stock_elsewhere() -> None:
    stock = {"MUG": {"A": 10, "B": 3}, "PLATE": {"A": 1, "B": 5}}
    result = allocate({"MUG": 2, "PLATE": 2}, stock)
    assert result.ok
    assert result.picks == (Pick("B", "MUG", 2), Pick("B", "PLATE", 2))


def test_among_covering_locations_the_one_with_most_free_wins_then_lowest_id() -> None:
    assert allocate({"MUG": 1}, {"MUG": {"A": 2, "B": 7, "C": 7}}).picks == (Pick("B", "MUG", 1),)
    assert allocate({"MUG": 1}, {"MUG": {"C": 4, "A": 4}}).picks == (Pick("A", "MUG", 1),)


def test_lines_no_single_location_covers_are_split_most_free_first() -> None:
    stock = {"MUG": {"A": 5, "B": 1}, "PLATE": {"A": 0, "B": 2}}
    result = allocate({"MUG": 2, "PLATE": 2}, stock)
    assert result.picks == (Pick("A", "MUG", 2), Pick("B", "PLATE", 2))


def test_one_line_is_split_over_locations_when_none_holds_it_all() -> None:
    stock = {"MUG": {"A": 3, "B": 4, "C": 4}}
    result = allocate({"MUG": 10}, stock)
    assert result.picks == (Pick("B", "MUG", 4), Pick("C", "MUG", 4), Pick("A", "MUG", 2))


def test_an_order_that_cannot_be_covered_takes_nothing_and_says_what_is_missing() -> None:
    stock = {"MUG": {"A": 5}, "PLATE": {"A": 1, "B": 1}}
    result = allocate({"MUG": 2, "PLATE": 3, "BOWL": 4}, stock)
    assert not result.ok
    assert result.picks == ()
    assert result.short == {"PLATE": 1, "BOWL": 4}


def test_a_sku_named_twice_is_one_line() -> None:
    assert merge_lines([("MUG", 1), ("PLATE", 2), ("MUG", 3)]) == {"MUG": 4, "PLATE": 2}


def test_free_stock_is_never_negative() -> None:
    assert available(sellable=2, reserved=5) == 0
    assert available(sellable=5, reserved=2) == 3


def test_queue_is_served_oldest_first_and_younger_requests_get_the_leftovers() -> None:
    stock: Stock = {"MUG": {"A": 4}, "PLATE": {"A": 0}}
    requests = [{"MUG": 3}, {"MUG": 1, "PLATE": 1}, {"MUG": 2}, {"MUG": 1}]
    results = allocate_in_turn([("web", lines) for lines in requests], stock, ChannelBook())
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[0].picks == (Pick("A", "MUG", 3),)
    assert results[3].picks == (Pick("A", "MUG", 1),)
    assert results[2].short == {"MUG": 1}
    assert stock["MUG"]["A"] == 0


def test_a_cap_is_the_smaller_of_its_share_and_its_units_rounded_down() -> None:
    assert ChannelRule(cap_percent=30).cap(sellable=99) == 29
    assert ChannelRule(cap_percent=30, cap_units=10).cap(sellable=100) == 10
    assert ChannelRule(cap_units=10).cap(sellable=3) == 10  # free stock limits it elsewhere
    assert ChannelRule(pool_units=5).cap(sellable=100) is None


def test_room_takes_pools_of_others_safety_and_cap_into_account() -> None:
    rules = {
        "market": ChannelRule(cap_percent=30, safety_units=5),
        "wholesale": ChannelRule(pool_units=20),
    }
    held = {"market": 10, "wholesale": 15}

    def room_of(channel: str) -> int:
        return room(channel, sellable=100, free=75, rules=rules, held=held)

    assert room_of("market") == 20  # its cap of 30 less the 10 it holds; 75 - 5 - 5 is more
    assert room_of("wholesale") == 75
    assert room_of("web") == 70  # 5 of wholesale's pool still unfilled
    assert room("market", sellable=100, free=3, rules=rules, held=held) == 0  # never negative


def test_a_channels_own_rule_for_a_sku_replaces_its_default() -> None:
    rows = [
        ("market", EVERY_SKU, ChannelRule(cap_units=2)),
        ("market", "MUG", ChannelRule()),
        ("web", EVERY_SKU, ChannelRule(safety_units=1)),
    ]
    assert effective_rules(rows, "MUG") == {
        "market": ChannelRule(),
        "web": ChannelRule(safety_units=1),
    }
    assert effective_rules(rows, "PLATE")["market"] == ChannelRule(cap_units=2)


def test_an_unmeasured_supplier_is_even_odds_and_a_promise_is_never_in_the_past() -> None:
    today = date(2030, 5, 4)
    overdue = Inbound("PO-1", "WH-A", date(2030, 4, 1), 3, None, None)
    found = promise(2, today=today, on_hand=0, queued=0, inbound=[overdue])
    assert (found.date, found.confidence) == (today, Decimal("0.5"))


def test_a_promise_takes_the_least_punctual_supplier_it_counts_on() -> None:
    soon = Inbound("PO-1", "WH-A", date(2030, 5, 1), 2, "A", Decimal("0.4"))
    later = Inbound("PO-2", "WH-A", date(2030, 6, 1), 5, "B", Decimal("0.9"))
    found = promise(5, today=date(2030, 4, 1), on_hand=1, queued=1, inbound=[later, soon])
    # 1 from stock; the queue takes 1 of PO-1, leaving 1; then 3 of PO-2.
    taken = [(line.purchase_order_id, n) for line, n in found.inbound]
    assert taken == [("PO-1", 1), ("PO-2", 3)]
    assert (found.date, found.confidence) == (date(2030, 6, 1), Decimal("0.4"))
