"""Unit tests: how a reservation picks its locations, and how the backorder queue is served."""

import pytest

from keel_inventory.domain import Pick, Stock, allocate, allocate_in_turn, available, merge_lines

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
    results = allocate_in_turn(requests, stock)
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[0].picks == (Pick("A", "MUG", 3),)
    assert results[3].picks == (Pick("A", "MUG", 1),)
    assert results[2].short == {"MUG": 1}
    assert stock["MUG"]["A"] == 0
