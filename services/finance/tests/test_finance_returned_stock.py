"""Service tests of returned stock in the books: inventory's `stock.returned` applied in the kit's
batches. Graded units come back into inventory at the cost their order's issues were posted at
(else the moving average, else the event's cost), taking back the cost of goods sold; written-off
units come back and leave again as a loss; ungraded units are not valued; each return movement
is valued once."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from finance_harness import Finance
from keel_contracts import new_event_id
from keel_contracts.events import Disposition, StockIssued, StockReceived, StockReturned
from keel_contracts.values import Money

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

STATES: dict[Disposition | None, str] = {
    None: "pending_inspection",
    "restock": "sellable",
    "refurbish": "quarantine",
    "damaged": "damaged",
    "write_off": "written_off",
}


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def receipt(quantity: int, unit_cost: str, sku: str = "MUG-1") -> StockReceived:
    return StockReceived(
        movement_id=str(new_event_id()),
        sku=sku,
        location_id="WH-1",
        quantity=quantity,
        unit_cost=usd(unit_cost),
        reference="opening",
    )


def issue(order_id: str, quantity: int, *, movement_id: str | None = None) -> StockIssued:
    return StockIssued(
        order_id=order_id,
        shipment_id=f"S-{order_id}",
        location_id="WH-1",
        sku="MUG-1",
        quantity=quantity,
        unit_cost=usd("9.99"),  # the item master's: finance costs at its own average
        movement_id=movement_id or str(new_event_id()),
    )


def returned(
    order_id: str,
    quantity: int,
    disposition: Disposition | None,
    *,
    unit_cost: str = "9.99",
    movement_id: str | None = None,
) -> StockReturned:
    return StockReturned(
        return_id=f"RMA-{order_id}",
        order_id=order_id,
        location_id="WH-1",
        sku="MUG-1",
        quantity=quantity,
        state=STATES[disposition],
        disposition=disposition,
        unit_cost=usd(unit_cost),
        movement_id=movement_id or str(new_event_id()),
    )


def new_order() -> str:
    return f"ORD-{uuid.uuid4().hex[:8]}"


async def shipped_at_three_then_dearer_stock(finance: Finance) -> str:
    """An order that shipped 4 units costed at 3.00 (12.00), after which dearer receipts raised
    the average to 3.60: 20 units worth 72.00 on hand."""
    order_id = new_order()
    await finance.apply(receipt(10, "2.00"), receipt(10, "4.00"))
    await finance.apply(issue(order_id, 4))
    await finance.apply(receipt(4, "6.00"))
    assert (await finance.valuation("MUG-1"))["average_cost"] == "3.60"
    return order_id


def entry(debit: str, credit: str, amount: str) -> list[tuple[str, str, str]]:
    return [(debit, amount, "0.00"), (credit, "0.00", amount)]


async def stock(finance: Finance) -> tuple[int, str]:
    valuation = await finance.valuation("MUG-1")
    return valuation["quantity"], valuation["value"]


async def test_units_received_back_before_inspection_are_not_valued(finance: Finance) -> None:
    order_id = await shipped_at_three_then_dearer_stock(finance)
    back = returned(order_id, 2, None)

    assert await finance.apply(back) == 1

    assert await finance.journal(back.movement_id) == []
    assert await stock(finance) == (20, "72.00")
    assert await finance.account("5000") == "12.00"


@pytest.mark.parametrize("disposition", ["restock", "refurbish", "damaged"])
async def test_graded_units_come_back_at_the_cost_their_order_was_posted_at(
    finance: Finance, disposition: Disposition
) -> None:
    order_id = await shipped_at_three_then_dearer_stock(finance)
    back = returned(order_id, 2, disposition)

    assert await finance.apply(back) == 1

    # 2 x 3.00 as issued: not the average of 3.60 now, nor the item master's 9.99.
    assert await finance.journal(back.movement_id) == [entry("1300", "5000", "6.00")]
    assert (await finance.journal(order_id))[-1] == entry("1300", "5000", "6.00")
    assert await stock(finance) == (22, "78.00")
    assert await finance.inventory_account() == "78.00"
    assert await finance.account("5000") == "6.00"


async def test_written_off_units_come_back_at_cost_and_leave_as_a_loss(finance: Finance) -> None:
    order_id = await shipped_at_three_then_dearer_stock(finance)
    back = returned(order_id, 2, "write_off")

    assert await finance.apply(back) == 1

    assert await finance.journal(back.movement_id) == [
        entry("1300", "5000", "6.00"),
        entry("5800", "1300", "6.00"),
    ]
    assert await stock(finance) == (20, "72.00")
    assert await finance.inventory_account() == "72.00"
    assert await finance.account("5000") == "6.00"  # the sale's cost is relieved
    assert await finance.account("5800") == "6.00"  # and the loss is a loss


async def test_units_of_an_order_finance_never_costed_come_back_at_the_moving_average(
    finance: Finance,
) -> None:
    await finance.apply(receipt(10, "2.00"), receipt(10, "4.00"))
    back = returned(new_order(), 2, "restock", unit_cost="9.99")

    await finance.apply(back)

    assert await finance.journal(back.movement_id) == [entry("1300", "5000", "6.00")]
    assert await stock(finance) == (22, "66.00")


async def test_units_with_no_issue_cost_nor_stock_to_average_come_back_at_the_event_cost(
    finance: Finance,
) -> None:
    back = returned(new_order(), 2, "refurbish", unit_cost="4.50")

    await finance.apply(back)

    assert await finance.journal(back.movement_id) == [entry("1300", "5000", "9.00")]
    assert await finance.valuation("MUG-1") == {
        "sku": "MUG-1",
        "currency": "USD",
        "quantity": 2,
        "value": "9.00",
        "average_cost": "4.50",
    }


async def test_a_return_delivered_again_under_a_new_event_id_is_valued_once(
    finance: Finance,
) -> None:
    order_id = await shipped_at_three_then_dearer_stock(finance)
    back = returned(order_id, 2, "write_off")

    assert await finance.apply(back) == 1
    assert await finance.apply(back, back) == 2  # each wrapped anew: new event ids

    assert len(await finance.journal(back.movement_id)) == 2  # the return and its write-off
    assert await finance.dead_letters("MUG-1") == []
    assert await finance.account("5000") == "6.00"
    assert await finance.account("5800") == "6.00"
    assert await finance.inventory_account() == "72.00"


async def test_returns_of_one_order_in_one_batch_take_back_every_cent_it_was_costed_at(
    finance: Finance,
) -> None:
    order_id = new_order()
    await finance.apply(receipt(3, "0.3333"))  # 1.00 for three
    await finance.apply(issue(order_id, 3))
    backs = [returned(order_id, 1, "restock") for _ in range(3)]

    assert await finance.apply(*backs) == 3

    costs = [await finance.journal(back.movement_id) for back in backs]
    assert costs == [
        [entry("1300", "5000", "0.33")],
        [entry("1300", "5000", "0.34")],
        [entry("1300", "5000", "0.33")],
    ]
    assert await stock(finance) == (3, "1.00")
    assert await finance.account("5000") == "0.00"


async def test_a_return_sees_its_orders_issue_earlier_in_the_same_batch(finance: Finance) -> None:
    order_id = new_order()
    await finance.apply(receipt(10, "2.00"), receipt(10, "4.00"))
    back = returned(order_id, 2, "restock")

    await finance.apply(issue(order_id, 2), receipt(18, "5.00"), back)

    # Issued at the average of 3.00; the average is 4.00 by the time the units come back.
    assert await finance.journal(back.movement_id) == [entry("1300", "5000", "6.00")]
    assert await stock(finance) == (38, "150.00")


async def test_a_failed_issue_in_a_batch_does_not_count_toward_its_orders_return_cost(
    finance: Finance,
) -> None:
    # The twin repeats the first issue's movement, so the kit redoes the batch a savepoint per
    # message and dead-letters the twin: the return must see the first issue only.
    order_id = new_order()
    first = issue(order_id, 2)
    twin = issue(order_id, 2, movement_id=first.movement_id)
    back = returned(order_id, 3, "restock")

    applied = await finance.apply(receipt(10, "2.00"), first, twin, receipt(10, "6.00"), back)

    assert applied == 4
    assert len(await finance.dead_letters("MUG-1")) == 1
    # Two units as issued (4.00), the third at the average of 76.00 / 18 units (4.22).
    assert await finance.journal(back.movement_id) == [entry("1300", "5000", "8.22")]
    assert await stock(finance) == (21, "84.22")
    assert await finance.inventory_account() == "84.22"
