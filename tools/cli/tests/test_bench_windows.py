"""Throughput per window, by the events' own times: the decay of a long run shows."""

from __future__ import annotations

import pytest

from keel_cli.bench_windows import boundaries, windows

pytestmark = pytest.mark.unit

START = 1_000_000.0


def test_events_are_counted_per_window_as_rates() -> None:
    accepted = [START + t for t in (0, 1, 2, 10, 31, 59)]

    rows = windows(START, 60, {"accepted": accepted}, width=30)

    assert [(r["from_s"], r["to_s"], r["accepted_per_s"]) for r in rows] == [
        (0, 30, 0.1),
        (30, 60, 0.1),
    ]


def test_the_window_the_offering_stops_in_is_cut_there() -> None:
    assert boundaries(offered_for=70, end=100, width=30) == [0, 30, 60, 70, 100]


def test_a_drain_shorter_than_a_window_gets_one_window() -> None:
    assert boundaries(offered_for=20, end=41, width=30) == [0, 20, 41]


def test_a_sliver_at_the_end_of_a_phase_joins_the_window_before_it() -> None:
    assert boundaries(offered_for=60.5, end=120.001, width=30) == [0, 30, 60.5, 90.5, 120.001]


def test_a_short_drain_is_still_a_window_of_its_own() -> None:
    assert boundaries(offered_for=20, end=20.5, width=30) == [0, 20, 20.5]


def test_without_events_after_the_offering_there_is_no_drain_window() -> None:
    assert boundaries(offered_for=60, end=60, width=30) == [0, 30, 60]


def test_windows_go_on_after_the_offering_until_the_last_event() -> None:
    rows = windows(
        START,
        30,
        {"accepted": [START + 1], "journal_posted": [START + 29, START + 45]},
        width=30,
    )

    assert [r["offering"] for r in rows] == [True, False]
    # The drain's window is as long as its last event reaches: 30 s to 45 s.
    assert rows[1]["to_s"] == 45
    assert rows[1]["journal_posted_per_s"] == round(1 / 15, 1)
    assert rows[1]["accepted_per_s"] == 0


def test_the_event_that_ends_the_last_window_is_counted() -> None:
    rows = windows(START, 10, {"confirmed": [START + 10]}, width=5)

    assert sum(r["confirmed_per_s"] * 5 for r in rows) == 1


def test_an_event_stamped_before_the_start_counts_in_the_first_window() -> None:
    rows = windows(START, 30, {"confirmed": [START - 0.2]}, width=30)

    assert rows[0]["confirmed_per_s"] == round(1 / 30, 1)


def test_a_kind_without_events_shows_zero_in_every_window() -> None:
    rows = windows(START, 90, {"shipped": []}, width=30)

    assert [r["shipped_per_s"] for r in rows] == [0, 0, 0]
