"""Unit tests: the purchasing rules, without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from keel_procurement import domain
from keel_procurement.domain import Action, Arrival, Status

pytestmark = pytest.mark.unit

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_order_above_the_threshold_needs_two_approvals() -> None:
    threshold = Decimal("10000.00")
    assert domain.approvals_required(Decimal("10000.00"), threshold) == 1
    assert domain.approvals_required(Decimal("10000.01"), threshold) == 2


def test_receivable_limit_rounds_the_tolerance_down() -> None:
    assert domain.receivable_limit(100, Decimal("0.05")) == 105
    assert domain.receivable_limit(40, Decimal("0.05")) == 42
    assert domain.receivable_limit(10, Decimal("0.05")) == 10
    assert domain.receivable_limit(10, Decimal("0")) == 10


def test_order_is_received_once_every_line_has_its_units() -> None:
    assert domain.status_after_receipt([(10, 10), (5, 6)]) is Status.RECEIVED
    assert domain.status_after_receipt([(10, 10), (5, 4)]) is Status.PARTIALLY_RECEIVED


def test_a_line_within_the_under_tolerance_is_filled() -> None:
    assert domain.filled_at(100, Decimal("0.05")) == 95
    assert domain.filled_at(10, Decimal("0.05")) == 10  # 9.5 rounds up: small lines need all
    assert domain.status_after_receipt([(100, 95), (10, 10)], Decimal("0.05")) is Status.RECEIVED
    assert domain.status_after_receipt([(100, 94)], Decimal("0.05")) is Status.PARTIALLY_RECEIVED


def test_illegal_action_names_the_status_and_what_would_allow_it() -> None:
    with pytest.raises(domain.IllegalTransition) as error:
        domain.check_action(Action.CANCEL, Status.PARTIALLY_RECEIVED)
    assert str(error.value) == (
        "cannot cancel a purchase order that is partially_received "
        "(only one that is approved, confirmed, draft, sent)"
    )
    domain.check_action(Action.RECEIVE, Status.SENT)  # goods may come before a confirmation


def test_delivery_record_is_empty_without_arrivals() -> None:
    record = domain.delivery_record([], stated_lead_time_days=7)
    assert record == domain.DeliveryRecord(None, None, None, 0, 0)


def test_delivery_record_measures_mean_days_and_on_time_share() -> None:
    arrivals = [
        # confirmed for the 6th, arrived on the 6th: on time, 4.25 days
        Arrival(SENT, date(2026, 3, 6), SENT + timedelta(days=4, hours=6)),
        # confirmed for the 4th, arrived on the 5th: late, 3 days
        Arrival(SENT, date(2026, 3, 4), SENT + timedelta(days=3)),
        # never confirmed: judged by the stated 7 days, arrived after 8: late
        Arrival(SENT, None, SENT + timedelta(days=8)),
    ]

    record = domain.delivery_record(arrivals, stated_lead_time_days=7)

    assert record.measured_lead_time_days == Decimal("5.08")  # (4.25 + 3 + 8) / 3
    # squared deviations from 5.0833: 0.6944 + 4.3403 + 8.5069 = 13.5417; / (3 - 1), sqrt: 2.6021
    assert record.lead_time_spread_days == Decimal("2.60")
    assert record.on_time_rate == Decimal("0.3333")
    assert (record.orders_measured, record.orders_on_time) == (3, 1)


def test_one_delivery_has_a_lead_time_but_no_spread() -> None:
    record = domain.delivery_record(
        [Arrival(SENT, None, SENT + timedelta(days=5))], stated_lead_time_days=7
    )
    assert (record.measured_lead_time_days, record.lead_time_spread_days) == (Decimal("5.00"), None)


def test_punctuality_is_judged_by_the_first_promised_date() -> None:
    # first promised for the 4th (the supplier later moved it to the 9th); arrived on the 8th
    late = Arrival(SENT, date(2026, 3, 4), SENT + timedelta(days=6))

    record = domain.delivery_record([late], stated_lead_time_days=30)

    assert (record.on_time_rate, record.orders_on_time) == (Decimal(0), 0)


def test_date_moves_only_later() -> None:
    assert domain.date_moves_later(date(2026, 3, 6), date(2026, 3, 9)) is True
    assert domain.date_moves_later(date(2026, 3, 6), date(2026, 3, 6)) is False
    with pytest.raises(domain.EarlierDate, match="can only move later"):
        domain.date_moves_later(date(2026, 3, 6), date(2026, 3, 5))


def test_fill_rate_counts_the_shortfall_of_an_order_closed_short() -> None:
    # a full order of 140 and one closed with 70 of its 140 units
    record = domain.fill_record([(140, 140), (140, 70)])
    assert record == domain.FillRecord(Decimal("0.7500"), 2, 280, 210)


def test_fill_rate_is_empty_without_finished_orders() -> None:
    assert domain.fill_record([]) == domain.FillRecord(None, 0, 0, 0)


def test_delivery_record_reads_naive_times_as_utc() -> None:
    naive = Arrival(
        SENT.replace(tzinfo=None), None, (SENT + timedelta(days=2)).replace(tzinfo=None)
    )
    record = domain.delivery_record([naive], stated_lead_time_days=2)
    assert (record.measured_lead_time_days, record.on_time_rate) == (Decimal("2.00"), Decimal(1))


# --- replenishment ---

# 9.1 a day with sigma 7.0845 (variance 50.19), 95% service level (z 1.6449).
DEMAND = domain.DailyDemand(Decimal("9.1"), Decimal("50.19"), 3, None, 0)


def plan(lead_time_sigma: Decimal | None) -> domain.Replenishment:
    return domain.replenish(
        demand=DEMAND,
        lead_time_days=Decimal(10),
        lead_time_sigma=lead_time_sigma,
        review_days=7,
        service_level=Decimal("0.95"),
        position=3,
        min_order_qty=50,
        pack_size=12,
    )


def test_safety_stock_without_a_lead_time_spread_covers_demand_over_a_fixed_lead_time() -> None:
    decision = plan(None)
    # 1.6449 x 7.0845 x sqrt(10)
    assert (decision.safety_stock, decision.reorder_point) == (
        Decimal("36.8510"),
        Decimal("127.8510"),
    )
    assert decision.lead_time_sigma is None


def test_safety_stock_includes_the_spread_of_the_lead_time() -> None:
    decision = plan(Decimal("2.83"))
    # 1.6449 x sqrt(10 x 7.0845^2 + 9.1^2 x 2.83^2) = 1.6449 x sqrt(1165.1184) = 56.1467
    assert decision.safety_stock == Decimal("56.1467")
    assert decision.reorder_point == Decimal("147.1467")  # 9.1 x 10 + 56.1467
    assert decision.order_up_to == Decimal("210.8467")
    assert (decision.raw_quantity, decision.quantity) == (208, 216)


def test_a_spread_of_zero_gives_the_fixed_lead_time_safety_stock() -> None:
    assert plan(Decimal(0)).reorder_point == plan(None).reorder_point
