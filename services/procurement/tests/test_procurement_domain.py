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


def test_illegal_action_names_the_status_and_what_would_allow_it() -> None:
    with pytest.raises(domain.IllegalTransition) as error:
        domain.check_action(Action.CANCEL, Status.PARTIALLY_RECEIVED)
    assert str(error.value) == (
        "cannot cancel a purchase order that is partially_received "
        "(only one that is approved, confirmed, draft, sent)"
    )
    domain.check_action(Action.RECEIVE, Status.SENT)  # goods may come before a confirmation


def test_amount_shows_cents_and_sub_cent_digits_only_when_present() -> None:
    assert str(domain.amount(Decimal("125.0000"))) == "125.00"
    assert str(domain.amount(Decimal("3.125"))) == "3.1250"
    assert str(domain.amount(Decimal("10"))) == "10.00"


def test_delivery_record_is_empty_without_arrivals() -> None:
    record = domain.delivery_record([], stated_lead_time_days=7)
    assert record == domain.DeliveryRecord(None, None, 0)


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
    assert record.on_time_rate == Decimal("0.3333")
    assert record.orders_measured == 3


def test_delivery_record_reads_naive_times_as_utc() -> None:
    naive = Arrival(
        SENT.replace(tzinfo=None), None, (SENT + timedelta(days=2)).replace(tzinfo=None)
    )
    record = domain.delivery_record([naive], stated_lead_time_days=2)
    assert (record.measured_lead_time_days, record.on_time_rate) == (Decimal("2.00"), Decimal(1))
