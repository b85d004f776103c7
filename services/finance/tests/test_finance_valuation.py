"""Service tests of inventory valuation: stock events applied in the kit's batches, as the broker
would deliver them, against finance's real database; valuations read back over HTTP."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

import pytest

from finance_harness import Finance
from keel_contracts import new_event_id
from keel_contracts.events import StockIssued, StockReceived
from keel_contracts.values import Money

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def money(amount: str, currency: str = "USD") -> Money:
    return Money(amount=Decimal(amount), currency=currency)


def receipt(
    sku: str,
    quantity: int,
    unit_cost: str,
    currency: str = "USD",
    purchase_order_id: str | None = None,
) -> StockReceived:
    return StockReceived(
        movement_id=str(new_event_id()),
        sku=sku,
        location_id="WH-1",
        quantity=quantity,
        unit_cost=money(unit_cost, currency),
        reference="PO-1",
        purchase_order_id=purchase_order_id,
    )


def issue(
    sku: str, quantity: int, unit_cost: str = "9.99", movement_id: str | None = None
) -> StockIssued:
    """An issue carrying the item master's cost, which finance uses only for unrecorded stock."""
    return StockIssued(
        order_id=f"ORD-{uuid.uuid4().hex[:8]}",
        shipment_id="S-1",
        location_id="WH-1",
        sku=sku,
        quantity=quantity,
        unit_cost=money(unit_cost),
        movement_id=movement_id or str(new_event_id()),
    )


def cost_of_goods(amount: str) -> list[list[tuple[str, str, str]]]:
    return [[("5000", amount, "0.00"), ("1300", "0.00", amount)]]


async def test_an_issue_after_receipts_at_different_costs_is_costed_at_their_average(
    finance: Finance,
) -> None:
    await finance.apply(receipt("MUG-1", 10, "2.00"))
    await finance.apply(receipt("MUG-1", 30, "3.00"))
    shipped = issue("MUG-1", 3, unit_cost="9.99")

    await finance.apply(shipped)

    assert await finance.journal(shipped.order_id) == cost_of_goods("8.25")
    assert await finance.valuation("MUG-1") == {
        "sku": "MUG-1",
        "currency": "USD",
        "quantity": 37,
        "value": "101.75",
        "average_cost": "2.75",
    }
    assert await finance.inventory_account() == "101.75"


async def test_issuing_every_unit_leaves_exactly_nothing_in_the_valuation(
    finance: Finance,
) -> None:
    await finance.apply(receipt("MUG-1", 3, "0.3333"))  # 1.00 for three: no even split
    shipped = [issue("MUG-1", 1) for _ in range(3)]
    for one in shipped:
        await finance.apply(one)

    costs = [await finance.journal(one.order_id) for one in shipped]
    assert costs == [cost_of_goods("0.33"), cost_of_goods("0.34"), cost_of_goods("0.33")]
    assert await finance.valuation("MUG-1") == {
        "sku": "MUG-1",
        "currency": "USD",
        "quantity": 0,
        "value": "0.00",
        "average_cost": None,
    }
    assert await finance.inventory_account() == "0.00"


async def test_an_issue_of_stock_finance_never_received_is_costed_at_the_event_cost_and_owed(
    finance: Finance, caplog: pytest.LogCaptureFixture
) -> None:
    shipped = issue("OLD-1", 2, unit_cost="6.00")

    with caplog.at_level(logging.WARNING, logger="keel_finance.service"):
        assert await finance.apply(shipped) == 1

    assert await finance.journal(shipped.order_id) == cost_of_goods("12.00")
    assert "2 costed at the event's 6.00 USD" in caplog.text
    # The valuation owes the units at the cost the account was credited with, so the two agree.
    assert await finance.valuation("OLD-1") == {
        "sku": "OLD-1",
        "currency": "USD",
        "quantity": -2,
        "value": "-12.00",
        "average_cost": None,
    }
    assert await finance.inventory_account() == "-12.00"


async def test_an_issue_beyond_the_recorded_stock_costs_the_rest_at_the_event_cost_below_zero(
    finance: Finance,
) -> None:
    await finance.apply(receipt("MUG-1", 1, "5.00"))
    shipped = issue("MUG-1", 3, unit_cost="6.00")

    assert await finance.apply(shipped) == 1

    assert await finance.journal(shipped.order_id) == cost_of_goods("17.00")
    valuation = await finance.valuation("MUG-1")
    assert (valuation["quantity"], valuation["value"]) == (-2, "-12.00")
    assert await finance.inventory_account() == "-12.00"
    assert await finance.dead_letters("MUG-1") == []


async def test_a_receipt_after_stock_went_negative_makes_up_the_owed_units(
    finance: Finance,
) -> None:
    await finance.apply(issue("MUG-1", 2, unit_cost="6.00"))

    await finance.apply(receipt("MUG-1", 10, "5.00"))

    # The owed units were costed at 6.00 and arrived at 5.00: the 2.00 between them stays in
    # the value (a higher average), so the account still equals it.
    assert await finance.valuation("MUG-1") == {
        "sku": "MUG-1",
        "currency": "USD",
        "quantity": 8,
        "value": "38.00",
        "average_cost": "4.75",
    }
    assert await finance.inventory_account() == "38.00"


async def test_units_restocked_below_what_was_owed_hand_the_difference_back_to_cost_of_goods(
    finance: Finance,
) -> None:
    await finance.apply(issue("MUG-1", 2, unit_cost="10.00"))  # owed at 10.00 each
    await finance.apply(receipt("MUG-1", 3, "5.00"))  # one on hand, valued at -5.00
    last = issue("MUG-1", 1)

    assert await finance.apply(last) == 1

    # The two owed units cost 10.00 less than they were costed at; the last unit's issue
    # takes that back out of the cost of goods sold, and the valuation ends at nothing.
    assert await finance.journal(last.order_id) == [
        [("1300", "5.00", "0.00"), ("5000", "0.00", "5.00")]
    ]
    valuation = await finance.valuation("MUG-1")
    assert (valuation["quantity"], valuation["value"]) == (0, "0.00")
    assert await finance.inventory_account() == "0.00"
    assert await finance.dead_letters("MUG-1") == []


async def test_events_of_one_sku_in_one_batch_see_each_other(finance: Finance) -> None:
    first, rest = issue("MUG-1", 5), issue("MUG-1", 15)

    applied = await finance.apply(
        receipt("MUG-1", 10, "2.00"), receipt("MUG-1", 10, "4.00"), first, rest
    )

    assert applied == 4
    assert await finance.journal(first.order_id) == cost_of_goods("15.00")
    assert await finance.journal(rest.order_id) == cost_of_goods("45.00")
    valuation = await finance.valuation("MUG-1")
    assert (valuation["quantity"], valuation["value"]) == (0, "0.00")
    assert await finance.dead_letters("MUG-1") == []


async def test_a_failed_issue_in_a_batch_leaves_the_valuation_as_the_others_made_it(
    finance: Finance,
) -> None:
    # The repeated movement breaks the journal's once-only constraint, so the kit redoes the
    # batch a savepoint per message and dead-letters that one: its valuation change must go too.
    first = issue("MUG-1", 1)
    twin = issue("MUG-1", 1, movement_id=first.movement_id)
    last = issue("MUG-1", 1)

    applied = await finance.apply(receipt("MUG-1", 4, "2.50"), first, twin, last)

    assert applied == 3
    assert len(await finance.dead_letters("MUG-1")) == 1
    assert await finance.journal(last.order_id) == cost_of_goods("2.50")
    valuation = await finance.valuation("MUG-1")
    assert (valuation["quantity"], valuation["value"]) == (2, "5.00")
    assert await finance.inventory_account() == "5.00"


async def test_a_receipt_in_another_currency_than_the_stock_is_dead_lettered(
    finance: Finance,
) -> None:
    await finance.apply(receipt("MUG-1", 2, "3.00"))

    assert await finance.apply(receipt("MUG-1", 2, "3.00", currency="EUR")) == 0

    (error,) = await finance.dead_letters("MUG-1")
    assert "MUG-1: a receipt at a EUR cost for stock valued in USD" in error
    valuation = await finance.valuation("MUG-1")
    assert (valuation["currency"], valuation["quantity"], valuation["value"]) == ("USD", 2, "6.00")


async def test_free_goods_lower_the_average_without_a_journal_entry(finance: Finance) -> None:
    await finance.apply(receipt("MUG-1", 2, "3.00"))
    free = receipt("MUG-1", 2, "0")

    assert await finance.apply(free) == 1

    assert await finance.journal(free.movement_id) == []
    assert (await finance.valuation("MUG-1"))["average_cost"] == "1.50"


async def test_valuations_are_listed_a_page_at_a_time_in_sku_order(finance: Finance) -> None:
    await finance.apply(
        receipt("C-1", 1, "1.00"), receipt("A-1", 2, "2.50"), receipt("B-1", 3, "1")
    )

    first = (await finance.client.get("/v1/valuation", params={"limit": 2})).json()
    rest = (
        await finance.client.get(
            "/v1/valuation", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()

    assert first == {
        "items": [
            {
                "sku": "A-1",
                "currency": "USD",
                "quantity": 2,
                "value": "5.00",
                "average_cost": "2.50",
            },
            {
                "sku": "B-1",
                "currency": "USD",
                "quantity": 3,
                "value": "3.00",
                "average_cost": "1.00",
            },
        ],
        "next_cursor": "B-1",
    }
    assert [item["sku"] for item in rest["items"]] == ["C-1"]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("limit", [0, 501])
async def test_a_valuation_page_outside_the_limits_is_refused(finance: Finance, limit: int) -> None:
    response = await finance.client.get("/v1/valuation", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"


async def test_an_unknown_sku_has_no_valuation(finance: Finance) -> None:
    response = await finance.client.get("/v1/valuation/NOPE-1")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "finance has valued no stock of sku NOPE-1"


async def test_a_purchase_order_receipt_posts_inventory_against_goods_received_not_invoiced(
    finance: Finance,
) -> None:
    arrived = receipt("MUG-1", 5, "2.50", purchase_order_id="PO-7")

    assert await finance.apply(arrived) == 1

    assert await finance.journal(arrived.movement_id) == [
        [("1300", "12.50", "0.00"), ("2100", "0.00", "12.50")]
    ]
    assert await finance.account("2100") == "-12.50"
    assert await finance.account("3900") == "0.00"  # never posted to


async def test_a_receipt_without_a_purchase_order_still_posts_against_opening_balance(
    finance: Finance,
) -> None:
    opening = receipt("MUG-1", 4, "2.00")

    await finance.apply(opening)

    assert await finance.journal(opening.movement_id) == [
        [("1300", "8.00", "0.00"), ("3900", "0.00", "8.00")]
    ]
    assert await finance.account("2100") == "0.00"  # never posted to


async def test_a_purchase_order_receipt_grows_the_valuation_at_moving_average(
    finance: Finance,
) -> None:
    await finance.apply(receipt("MUG-1", 10, "2.00"))

    await finance.apply(receipt("MUG-1", 10, "4.00", purchase_order_id="PO-7"))

    assert await finance.valuation("MUG-1") == {
        "sku": "MUG-1",
        "currency": "USD",
        "quantity": 20,
        "value": "60.00",
        "average_cost": "3.00",
    }
    assert await finance.inventory_account() == "60.00"
    shipped = issue("MUG-1", 5)
    await finance.apply(shipped)
    assert await finance.journal(shipped.order_id) == cost_of_goods("15.00")
