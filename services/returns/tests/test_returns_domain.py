"""Unit tests: the return authorization rules, without a database."""

from datetime import UTC, datetime, timedelta

import pytest

from keel_returns.domain import Clock, RequestedLine, Returnable, ReturnRefused, check_return

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)


def item(sku: str, shipped: int, returned: int = 0, *, days: int = 1) -> Returnable:
    return Returnable(sku, shipped, returned, Clock(NOW - timedelta(days=days), delivered=True))


def check(
    *lines: tuple[str, int],
    items: list[Returnable],
    not_returnable: dict[str, str] | None = None,
    window_days: int = 30,
) -> None:
    check_return(
        order_id="o-1",
        channel="web",
        lines=[RequestedLine(sku, q) for sku, q in lines],
        items={i.sku: i for i in items},
        not_returnable=not_returnable or {},
        window_days=window_days,
        now=NOW,
    )


def test_a_later_clock_wins_and_an_earlier_one_does_not() -> None:
    shipped = Clock(NOW - timedelta(days=10), delivered=False)
    delivered = Clock(NOW - timedelta(days=8), delivered=True)
    naive_earlier = Clock(datetime(2026, 3, 1), delivered=False)  # SQLite drops the zone

    assert shipped.later(delivered) == delivered
    assert delivered.later(shipped) == delivered
    assert delivered.later(naive_earlier) == delivered


def test_what_is_left_can_be_returned_and_no_more() -> None:
    check(("A", 1), items=[item("A", 3, returned=2)])

    with pytest.raises(ReturnRefused) as refused:
        check(("A", 2), items=[item("A", 3, returned=2)])
    assert refused.value.field == "lines.0.quantity"


def test_the_first_failing_line_is_named() -> None:
    with pytest.raises(ReturnRefused) as refused:
        check(
            ("A", 1),
            ("B", 1),
            ("C", 1),
            items=[item("A", 1), item("B", 1, days=40), item("C", 1)],
            not_returnable={"C": "final sale"},
        )
    assert (refused.value.field, refused.value.detail) == (
        "lines.1.sku",
        "the return window of sku B (30 days from delivery for channel web) closed at "
        "2026-03-21T12:00:00+00:00",
    )


def test_the_window_is_inclusive_of_its_last_moment() -> None:
    check(("A", 1), items=[item("A", 1, days=30)])
    with pytest.raises(ReturnRefused):
        check(("A", 1), items=[item("A", 1, days=30)], window_days=29)


def test_an_order_with_nothing_shipped_is_refused_on_order_id() -> None:
    with pytest.raises(ReturnRefused) as refused:
        check(("A", 1), items=[])
    assert refused.value.field == "order_id"
