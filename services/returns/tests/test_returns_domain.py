"""Unit tests: the return rules (authorization, grading, refunds), without a database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from keel_returns.domain import (
    GRADES,
    Clock,
    Grade,
    GradedLine,
    OrderMoney,
    PriceUnknown,
    RefundStatus,
    RequestedLine,
    Returnable,
    ReturnRefused,
    ShippingRefund,
    StepRefused,
    check_inspection,
    check_return,
    needs_approval,
    quote_refund,
    require_step,
    whole_order_returned,
)
from keel_returns.settlement import Settlement, SettlementRefused, all_paid, settle_refund

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


# --- grades and refunds ---


def money(
    *,
    total: str = "100.00",
    shipping: str = "10.00",
    refunded: str = "0",
    shipping_refunded: bool = False,
) -> OrderMoney:
    return OrderMoney(
        currency="USD",
        total=Decimal(total),
        shipping=Decimal(shipping),
        unit_prices={"A": Decimal("30.00"), "B": Decimal("9.99")},
        ordered={"A": 2, "B": 1},
        refunded=Decimal(refunded),
        shipping_refunded=shipping_refunded,
    )


def test_every_grade_has_a_disposition_and_only_b_a_fee() -> None:
    assert {g.value: (p.disposition.value, p.restocking_fee) for g, p in GRADES.items()} == {
        "A": ("restock", Decimal("0")),
        "B": ("refurbish", Decimal("0.10")),
        "C": ("damaged", Decimal("0")),
        "D": ("write_off", Decimal("0")),
    }


def test_the_restocking_fee_is_rounded_to_the_cent_per_line() -> None:
    quote = quote_refund(
        graded={("B", Grade.B): 1, ("A", Grade.A): 1},
        order=money(),
        whole_order=False,
        shipping_policy=ShippingRefund.WHOLE_ORDER,
    )
    assert [(x.sku, x.restocking_fee, x.amount) for x in quote.lines] == [
        ("A", Decimal("0"), Decimal("30.00")),
        ("B", Decimal("1.00"), Decimal("8.99")),
    ]
    assert (quote.goods, quote.restocking_fee, quote.shipping, quote.amount) == (
        Decimal("39.99"),
        Decimal("1.00"),
        Decimal("0"),
        Decimal("38.99"),
    )


@pytest.mark.parametrize(
    ("policy", "whole", "refunded_before", "shipping"),
    [
        (ShippingRefund.WHOLE_ORDER, True, False, "10.00"),
        (ShippingRefund.WHOLE_ORDER, False, False, "0"),
        (ShippingRefund.WHOLE_ORDER, True, True, "0"),
        (ShippingRefund.ALWAYS, False, False, "10.00"),
        (ShippingRefund.NEVER, True, False, "0"),
    ],
)
def test_shipping_comes_back_as_the_policy_says_and_once(
    policy: ShippingRefund, whole: bool, refunded_before: bool, shipping: str
) -> None:
    quote = quote_refund(
        graded={("A", Grade.A): 1},
        order=money(shipping_refunded=refunded_before),
        whole_order=whole,
        shipping_policy=policy,
    )
    assert quote.shipping == Decimal(shipping)


def test_the_refund_is_capped_at_what_the_total_leaves() -> None:
    quote = quote_refund(
        graded={("A", Grade.A): 2},
        order=money(refunded="75.005"),
        whole_order=False,
        shipping_policy=ShippingRefund.NEVER,
    )
    assert (quote.uncapped, quote.amount, quote.capped) == (
        Decimal("60.00"),
        Decimal("24.99"),
        True,
    )


def test_a_refund_in_yen_charges_its_fee_half_up_and_is_capped_in_whole_yen() -> None:
    order = OrderMoney(
        currency="JPY",
        total=Decimal("3000"),
        shipping=Decimal("0"),
        unit_prices={"A": Decimal("1005")},
        ordered={"A": 2},
        refunded=Decimal("1200.5"),
        shipping_refunded=False,
    )
    quote = quote_refund(
        graded={("A", Grade.B): 1},
        order=order,
        whole_order=False,
        shipping_policy=ShippingRefund.NEVER,
    )
    # A 10% fee on 1005 yen is 100.5: a charge rounds half-up, to 101 yen.
    assert [(str(x.restocking_fee), str(x.amount)) for x in quote.lines] == [("101", "904")]
    assert (quote.uncapped, quote.amount) == (Decimal("904"), Decimal("904"))
    # 1799.5 yen left of the total is capped down to 1799: two more units (2010) get that.
    more = quote_refund(
        graded={("A", Grade.A): 2},
        order=order,
        whole_order=False,
        shipping_policy=ShippingRefund.NEVER,
    )
    assert (str(more.amount), more.capped) == ("1799", True)


def test_a_sku_without_a_price_cannot_be_refunded() -> None:
    with pytest.raises(PriceUnknown, match="sku C"):
        quote_refund(
            graded={("C", Grade.A): 1},
            order=money(),
            whole_order=False,
            shipping_policy=ShippingRefund.NEVER,
        )


def test_the_whole_order_is_back_when_every_unit_ordered_is_graded() -> None:
    assert whole_order_returned({"A": 2, "B": 1}, {"A": 2, "B": 1})
    assert not whole_order_returned({"A": 2, "B": 1}, {"A": 2})
    assert not whole_order_returned({}, {})


def test_only_amounts_above_the_threshold_need_approval() -> None:
    assert needs_approval(Decimal("500.01"), Decimal("500.00"))
    assert not needs_approval(Decimal("500.00"), Decimal("500.00"))


def test_a_step_from_the_wrong_status_is_refused() -> None:
    require_step("r-1", "authorized", "record a receipt")
    with pytest.raises(StepRefused, match="r-1 is inspected: can record a receipt only"):
        require_step("r-1", "inspected", "record a receipt")


def test_graded_units_add_up_per_sku_and_grade() -> None:
    graded = check_inspection(
        [GradedLine("A", 1, Grade.A), GradedLine("A", 1, Grade.A), GradedLine("A", 1, Grade.C)],
        {"A": 3},
    )
    assert graded == {("A", Grade.A): 2, ("A", Grade.C): 1}


def settle(paid: str, *, status: str = "requested", currency: str = "USD") -> Settlement:
    return settle_refund(
        refund_id="f-1",
        status=status,
        requested=Decimal("58.00"),
        currency="USD",
        paid=Decimal(paid),
        paid_currency=currency,
    )


def test_a_refund_paid_short_keeps_the_shortfall() -> None:
    assert settle("40.00") == Settlement(refunded=Decimal("40.00"), shortfall=Decimal("18.00"))
    assert settle("58.00") == Settlement(refunded=Decimal("58.00"), shortfall=Decimal("0.00"))
    assert settle("0") == Settlement(refunded=Decimal("0.00"), shortfall=Decimal("58.00"))


def test_a_payment_that_cannot_be_recorded_is_refused() -> None:
    with pytest.raises(SettlementRefused, match="f-1 is waiting for approval"):
        settle("58.00", status="pending_approval")
    with pytest.raises(SettlementRefused, match="requested in USD, paid in EUR"):
        settle("58.00", currency="EUR")
    with pytest.raises(SettlementRefused, match=r"not between 0 and the 58\.00 requested"):
        settle("58.01")
    with pytest.raises(SettlementRefused, match="not between 0"):
        settle("-1.00")


def test_a_refund_paid_in_yen_is_recorded_as_finance_posted_it() -> None:
    paid = settle_refund(
        refund_id="f-1",
        status="requested",
        requested=Decimal("904"),
        currency="JPY",
        paid=Decimal("903.5"),  # never from finance, which pays whole yen: posted half-even
        paid_currency="JPY",
    )
    assert (str(paid.refunded), str(paid.shortfall)) == ("904", "0")


def test_a_return_is_paid_once_every_refund_of_it_is() -> None:
    assert all_paid([RefundStatus.REFUNDED, RefundStatus.REFUNDED])
    assert not all_paid([RefundStatus.REFUNDED, RefundStatus.REQUESTED])
    assert not all_paid([])


def test_a_refund_is_recorded_paid_only_once_requested() -> None:
    require_step("r-1", "refund_requested", "record the refund paid")
    with pytest.raises(StepRefused, match="r-1 is inspected: can record the refund paid only"):
        require_step("r-1", "inspected", "record the refund paid")
