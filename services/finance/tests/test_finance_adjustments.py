"""Service tests of stock adjustments in the books: inventory's `stock.adjusted` applied in the
kit's batches. Lost units leave the valuation at the moving average cost (units beyond those it
values at the event's cost) as shrinkage; found units come back at the moving average (the
event's cost with nothing on hand to average), taking shrinkage back; each adjustment movement
is valued once; the inventory reconciliation agrees before and after."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any

import pytest

from finance_harness import Finance
from keel_contracts import new_event_id
from keel_contracts.events import StockAdjusted, StockIssued, StockReceived
from keel_contracts.values import Money

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

SHRINKAGE = "5810"


def money(amount: str, currency: str = "USD") -> Money:
    return Money(amount=Decimal(amount), currency=currency)


def receipt(quantity: int, unit_cost: str, sku: str = "MUG-1") -> StockReceived:
    return StockReceived(
        movement_id=str(new_event_id()),
        sku=sku,
        location_id="WH-1",
        quantity=quantity,
        unit_cost=money(unit_cost),
        reference="opening",
    )


def adjusted(
    quantity: int,
    *,
    sku: str = "MUG-1",
    reason_code: str = "count_variance",
    unit_cost: Money | None = None,
) -> StockAdjusted:
    return StockAdjusted(
        adjustment_id=f"ADJ-{uuid.uuid4().hex[:8]}",
        movement_id=str(new_event_id()),
        location_id="WH-1",
        sku=sku,
        quantity=quantity,
        reason_code=reason_code,
        unit_cost=unit_cost or money("9.99"),  # the item master's: finance values at its own
    )


def entry(debit: str, credit: str, amount: str) -> list[tuple[str, str, str]]:
    return [(debit, amount, "0.00"), (credit, "0.00", amount)]


async def stock(finance: Finance, sku: str = "MUG-1") -> tuple[int, str]:
    valuation = await finance.valuation(sku)
    return valuation["quantity"], valuation["value"]


async def twenty_at_an_average_of_three(finance: Finance) -> None:
    await finance.apply(receipt(10, "2.00"), receipt(10, "4.00"))
    assert (await finance.valuation("MUG-1"))["average_cost"] == "3.00"


async def two_owed_in_dollars(finance: Finance) -> None:
    """OLD-1 shipped before finance valued any: the valuation owes 2 units at 6.00 USD."""
    shipped = StockIssued(
        order_id="ORD-1",
        shipment_id="S-1",
        location_id="WH-1",
        sku="OLD-1",
        quantity=2,
        unit_cost=money("6.00"),
        movement_id=str(new_event_id()),
    )
    await finance.apply(shipped)
    assert await stock(finance, "OLD-1") == (-2, "-12.00")


async def reconcile(finance: Finance) -> dict[str, Any]:
    body: dict[str, Any] = await finance.get_json("/v1/reconciliation/inventory")
    body.pop("as_of")
    return body


async def test_lost_units_leave_at_the_moving_average_as_shrinkage(finance: Finance) -> None:
    await twenty_at_an_average_of_three(finance)
    lost = adjusted(-3)

    assert await finance.apply(lost) == 1

    # 3 x 3.00: the average, not the item master's 9.99.
    assert await finance.journal(lost.movement_id) == [entry(SHRINKAGE, "1300", "9.00")]
    assert await stock(finance) == (17, "51.00")
    assert await finance.inventory_account() == "51.00"
    assert await finance.account(SHRINKAGE) == "9.00"


async def test_an_adjustment_is_posted_as_a_stock_adjustment_naming_it(finance: Finance) -> None:
    await twenty_at_an_average_of_three(finance)
    lost = adjusted(-3)

    await finance.apply(lost)

    (posted,) = await finance.get_json("/v1/journal", source_id=lost.movement_id)
    assert (posted["source_type"], posted["memo"]) == (
        "stock_adjustment",
        f"adjusted -3 x MUG-1 at WH-1 (count_variance, adjustment {lost.adjustment_id})",
    )


async def test_found_units_come_back_at_the_moving_average_against_shrinkage(
    finance: Finance,
) -> None:
    await twenty_at_an_average_of_three(finance)
    found = adjusted(2, reason_code="found")

    assert await finance.apply(found) == 1

    assert await finance.journal(found.movement_id) == [entry("1300", SHRINKAGE, "6.00")]
    assert await stock(finance) == (22, "66.00")
    assert (await finance.valuation("MUG-1"))["average_cost"] == "3.00"
    assert await finance.inventory_account() == "66.00"
    assert await finance.account(SHRINKAGE) == "-6.00"


async def test_units_lost_then_found_again_leave_no_shrinkage(finance: Finance) -> None:
    await twenty_at_an_average_of_three(finance)

    await finance.apply(adjusted(-3, reason_code="loss"), adjusted(3, reason_code="found"))

    assert await finance.account(SHRINKAGE) == "0.00"
    assert await stock(finance) == (20, "60.00")
    assert await finance.inventory_account() == "60.00"


async def test_found_units_with_nothing_on_hand_come_in_at_the_event_cost(
    finance: Finance,
) -> None:
    found = adjusted(2, sku="BOWL-1", reason_code="found", unit_cost=money("4.50"))

    await finance.apply(found)

    assert await finance.journal(found.movement_id) == [entry("1300", SHRINKAGE, "9.00")]
    assert await finance.valuation("BOWL-1") == {
        "sku": "BOWL-1",
        "currency": "USD",
        "quantity": 2,
        "value": "9.00",
        "average_cost": "4.50",
    }


async def test_units_lost_beyond_those_valued_are_costed_at_the_event_cost_and_owed(
    finance: Finance, caplog: pytest.LogCaptureFixture
) -> None:
    await finance.apply(receipt(1, "5.00"))
    lost = adjusted(-3, reason_code="transit_loss", unit_cost=money("6.00"))

    with caplog.at_level(logging.WARNING, logger="keel_finance.adjustments"):
        assert await finance.apply(lost) == 1

    assert await finance.journal(lost.movement_id) == [entry(SHRINKAGE, "1300", "17.00")]
    assert "2 costed at the event's 6.00 USD" in caplog.text
    assert await stock(finance) == (-2, "-12.00")
    assert await finance.inventory_account() == "-12.00"


async def test_an_adjustment_delivered_again_under_a_new_event_id_is_posted_once(
    finance: Finance,
) -> None:
    await twenty_at_an_average_of_three(finance)
    lost = adjusted(-3)

    assert await finance.apply(lost) == 1
    assert await finance.apply(lost) == 1  # wrapped anew: a new event id
    assert await finance.apply(lost, lost) == 2  # twice more, in one batch

    assert len(await finance.journal(lost.movement_id)) == 1
    assert await finance.dead_letters() == []
    assert await stock(finance) == (17, "51.00")
    assert await finance.account(SHRINKAGE) == "9.00"


async def test_an_adjustment_twice_in_its_first_batch_is_posted_once(finance: Finance) -> None:
    await twenty_at_an_average_of_three(finance)
    found = adjusted(2, reason_code="found")

    assert await finance.apply(found, found) == 2

    assert len(await finance.journal(found.movement_id)) == 1
    assert await finance.dead_letters() == []
    assert await stock(finance) == (22, "66.00")


async def test_free_units_adjusted_post_nothing_but_move_the_quantity_once(
    finance: Finance,
) -> None:
    await finance.apply(receipt(5, "0.00"))
    lost, found = adjusted(-2, unit_cost=money("0.00")), adjusted(1, unit_cost=money("0.00"))

    await finance.apply(lost, found)
    await finance.apply(lost, found)  # delivered again under new event ids

    assert await finance.journal(lost.movement_id) == []
    assert await finance.journal(found.movement_id) == []
    assert await stock(finance) == (4, "0.00")
    assert await finance.dead_letters() == []


async def test_books_stay_balanced_and_the_inventory_account_equals_the_valuations(
    finance: Finance,
) -> None:
    await finance.apply(receipt(3, "0.3333"), receipt(4, "1.25", sku="PLATE-1"))

    await finance.apply(
        adjusted(-1),  # a third of 1.00: 0.33
        adjusted(-1, reason_code="damage"),  # half of the 0.67 left: 0.34 (half to even)
        adjusted(2, sku="PLATE-1", reason_code="found"),
        adjusted(-5, sku="PLATE-1", reason_code="transit_loss"),
    )

    books = await finance.books()  # asserts the trial balance balances
    assert books is not None
    assert (await stock(finance), await stock(finance, "PLATE-1")) == ((1, "0.33"), (1, "1.25"))
    assert await finance.inventory_account() == "1.58"
    assert await finance.account(SHRINKAGE) == "4.42"  # 0.33 + 0.34 - 2.50 + 6.25


async def test_the_reconciliation_follows_adjustments_inventory_already_made(
    finance: Finance,
) -> None:
    await finance.apply(receipt(10, "2.50"), receipt(4, "1.25", sku="PLATE-1"))
    # Inventory has counted 3 mugs missing, found a plate and lost one mug in transit.
    finance.inventory.valued = {"MUG-1": 6, "PLATE-1": 5}
    before = await reconcile(finance)
    assert before["mismatches"] == [
        {"sku": "MUG-1", "finance_quantity": 10, "inventory_quantity": 6},
        {"sku": "PLATE-1", "finance_quantity": 4, "inventory_quantity": 5},
    ]

    await finance.apply(
        adjusted(-3),
        adjusted(1, sku="PLATE-1", reason_code="found"),
        adjusted(-1, reason_code="transit_loss"),
    )

    assert await reconcile(finance) == {
        "matches": True,
        "account_balance": "21.25",  # 25.00 + 5.00 received, 10.00 lost, 1.25 found
        "valuation_total": "21.25",
        "difference": "0.00",
        "skus_compared": 2,
        "skus_mismatched": 0,
        "mismatches": [],
    }


async def test_found_units_at_another_currency_than_the_owed_stock_are_dead_lettered(
    finance: Finance,
) -> None:
    await two_owed_in_dollars(finance)
    found = adjusted(3, sku="OLD-1", reason_code="found", unit_cost=money("500", "JPY"))

    assert await finance.apply(found) == 0

    (reason,) = await finance.dead_letters()
    assert "found units at a JPY cost for stock valued in USD" in reason
    assert await finance.journal(found.movement_id) == []
    assert await stock(finance, "OLD-1") == (-2, "-12.00")


async def test_an_adjustment_in_a_batch_redone_message_by_message_is_posted_once(
    finance: Finance,
) -> None:
    # The failing adjustment makes the kit redo the batch a savepoint per message: the first
    # pass's memory of what it valued must not make the redo skip the loss, nor post its twin.
    await twenty_at_an_average_of_three(finance)
    await two_owed_in_dollars(finance)
    lost = adjusted(-3)
    failing = adjusted(3, sku="OLD-1", reason_code="found", unit_cost=money("500", "JPY"))

    assert await finance.apply(lost, failing, lost) == 2

    assert len(await finance.dead_letters()) == 1
    assert await finance.journal(lost.movement_id) == [entry(SHRINKAGE, "1300", "9.00")]
    assert await stock(finance) == (17, "51.00")
