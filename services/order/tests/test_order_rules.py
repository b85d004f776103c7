from datetime import UTC, datetime
from decimal import Decimal

import pytest

from keel_order.domain import (
    RULES,
    HoldType,
    IllegalTransition,
    OrderFacts,
    Status,
    check_transition,
    decide,
    supplier_delay,
)

pytestmark = pytest.mark.unit


def facts(**changes: object) -> OrderFacts:
    base: dict[str, object] = {
        "line_quantities": (1,),
        "order_value": Decimal("50"),
        "new_customer": False,
        "address_country": "US",
        "market_country": "US",
    }
    return OrderFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_an_ordinary_order_passes_with_the_rule_set_version() -> None:
    decision = decide(facts())
    assert decision.holds == ()
    assert decision.rule_set_version == RULES.version


def test_a_line_above_the_quantity_cap_is_held_for_review() -> None:
    (hold,) = decide(facts(line_quantities=(1, RULES.max_line_quantity + 1))).holds
    assert hold.type == HoldType.LIMIT_REVIEW
    assert str(RULES.max_line_quantity) in hold.reason


def test_new_customer_with_a_high_value_order_abroad_is_held_for_fraud_review() -> None:
    decision = decide(facts(new_customer=True, order_value=Decimal("1500"), address_country="FR"))
    (hold,) = decision.holds
    assert hold.type == HoldType.FRAUD_REVIEW
    assert decision.fraud_score == 110
    assert "new customer" in hold.reason
    assert "ships to FR" in hold.reason


def test_one_fraud_signal_alone_does_not_hold() -> None:
    assert decide(facts(new_customer=True)).holds == ()


def test_a_shipped_order_cannot_be_cancelled() -> None:
    with pytest.raises(IllegalTransition):
        check_transition(Status.SHIPPED, Status.CANCELLED)


def test_a_confirmed_order_can_be_cancelled() -> None:
    check_transition(Status.CONFIRMED, Status.CANCELLED)


def test_a_supplier_delay_names_five_skus_and_counts_the_rest() -> None:
    hold = supplier_delay(
        purchase_order_id="PO-1",
        supplier_id="SUP-1",
        skus=[f"SKU-{n}" for n in range(8)] + ["SKU-0"],
        previous_expected_at=datetime(2030, 5, 4, tzinfo=UTC),
        expected_at=datetime(2030, 6, 10, tzinfo=UTC),
    )

    assert (hold.type, hold.reference) == (HoldType.SUPPLIER_DELAY, "PO-1")
    assert hold.reason == (
        "supplier SUP-1 delayed purchase order PO-1 from 2030-05-04 to 2030-06-10; "
        "it brings SKU-0, SKU-1, SKU-2, SKU-3, SKU-4 and 3 more, which this order waits for"
    )


def test_a_supplier_delay_reason_fits_its_column() -> None:
    hold = supplier_delay(
        purchase_order_id="PO-1",
        supplier_id="S" * 600,
        skus=["MUG-1"],
        previous_expected_at=datetime(2030, 5, 4, tzinfo=UTC),
        expected_at=datetime(2030, 6, 10, tzinfo=UTC),
    )

    assert len(hold.reason) == 500
    assert hold.reason.endswith("…")
