"""Service tests of the books in currencies of other minor units (`keel_contracts.money`): a
journal line is posted to the places its currency has in the journal (whole yen, cents), and the
valuation moves by exactly what is posted, so the checks hold in every currency at once."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from finance_harness import Finance
from keel_contracts import new_event_id
from keel_contracts.commands import AuthorizePayment, CapturePayment
from keel_contracts.events import OrderPlaced, StockIssued, StockReceived, StockReturned
from keel_contracts.values import Line, Money
from keel_kit.testing import check_findings

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

# Three units for 1000: 333.3333 each. Issued one by one they cost 333.33, 333.34 and 333.33 in
# dollars (as before), and 333, 334 and 333 in yen.
CASES = [
    ("USD", "SKU-USD", ["333.33", "333.34", "333.33"]),
    ("JPY", "SKU-JPY", ["333", "334", "333"]),
]


def money(amount: str, currency: str) -> Money:
    return Money(amount=Decimal(amount), currency=currency)


def receipt(sku: str, currency: str) -> StockReceived:
    return StockReceived(
        movement_id=str(new_event_id()),
        sku=sku,
        location_id="WH-1",
        quantity=3,
        unit_cost=money("333.3333", currency),
        reference="PO-1",
        purchase_order_id="PO-1",
    )


def issue(order_id: str, sku: str, currency: str, movement_id: str = "") -> StockIssued:
    return StockIssued(
        order_id=order_id,
        shipment_id=f"S-{order_id}",
        location_id="WH-1",
        sku=sku,
        quantity=1,
        unit_cost=money("999", currency),  # the item master's: finance costs at its average
        movement_id=movement_id or str(new_event_id()),
    )


def returned(order_id: str, sku: str, currency: str) -> StockReturned:
    return StockReturned(
        return_id=f"RMA-{order_id}",
        order_id=order_id,
        location_id="WH-1",
        sku=sku,
        quantity=1,
        state="sellable",
        disposition="restock",
        unit_cost=money("999", currency),
        movement_id=str(new_event_id()),
    )


async def sell(finance: Finance, order_id: str, currency: str) -> None:
    """An order of 1200 goods and 300 shipping authorized, then captured as it ships."""
    await finance.publish(
        AuthorizePayment(
            order_id=order_id, amount=money("1500", currency), method="card", token="tok_visa"
        )
    )
    await finance.publish(
        CapturePayment(
            order_id=order_id,
            amount=money("1500", currency),
            goods=money("1200", currency),
            shipping=money("300", currency),
        )
    )


async def findings(finance: Finance) -> dict[str, list[str]]:
    return check_findings((await finance.client.get("/v1/checks")).json())


async def posted_lines(finance: Finance, source_id: str) -> list[dict[str, Any]]:
    """The lines of `journal.entry_posted` for the source, as they went on the wire."""
    (posted,) = await finance.staged("finance.journal.v1", source_id)
    lines: list[dict[str, Any]] = posted.payload["lines"]
    return lines


def amounts(entries: list[list[tuple[str, str, str]]]) -> list[list[tuple[str, Decimal, Decimal]]]:
    return [[(a, Decimal(d), Decimal(c)) for a, d, c in entry] for entry in entries]


@pytest.mark.parametrize(("currency", "sku", "costs"), CASES, ids=[c for c, _, _ in CASES])
async def test_a_sale_and_its_cost_of_goods_post_to_the_currency_s_places_and_keep_the_checks(
    finance: Finance, currency: str, sku: str, costs: list[str]
) -> None:
    await finance.apply(receipt(sku, currency))
    orders = [f"ORD-{uuid.uuid4().hex[:8]}" for _ in costs]
    movements = [str(new_event_id()) for _ in costs]
    await sell(finance, orders[0], currency)

    values = []
    for order_id, movement_id in zip(orders, movements, strict=True):
        await finance.apply(issue(order_id, sku, currency, movement_id))
        values.append((await finance.valuation(sku))["value"])

    sale, capture, cost_of_goods = amounts(await finance.journal(orders[0]))
    assert sale == [
        ("1100", Decimal(1500), Decimal(0)),
        ("4000", Decimal(0), Decimal(1200)),
        ("4100", Decimal(0), Decimal(300)),
    ]
    assert capture == [("1000", Decimal(1500), Decimal(0)), ("1100", Decimal(0), Decimal(1500))]
    first = Decimal(costs[0])
    assert cost_of_goods == [("5000", first, Decimal(0)), ("1300", Decimal(0), first)]
    posted = [amounts(await finance.journal(movement))[0][0][1] for movement in movements]
    assert posted == [Decimal(cost) for cost in costs]
    assert [line["debit"] for line in await posted_lines(finance, movements[0])] == [
        costs[0],
        "0" if currency == "JPY" else "0.00",
    ]
    # The valuation moved by exactly what each cost of goods posted, down to nothing.
    left = Decimal(1000)
    for cost, value in zip(costs, values, strict=True):
        left -= Decimal(cost)
        assert Decimal(value) == left
    assert Decimal(await finance.inventory_account(currency)) == 0
    assert await findings(finance) == {}


async def test_the_books_hold_with_stock_in_yen_and_dollars_side_by_side(
    finance: Finance,
) -> None:
    orders = {currency: f"ORD-{uuid.uuid4().hex[:8]}" for currency, _, _ in CASES}
    for currency, sku, _ in CASES:
        await finance.apply(receipt(sku, currency))
        await sell(finance, orders[currency], currency)
        await finance.apply(issue(orders[currency], sku, currency))
        await finance.apply(returned(orders[currency], sku, currency))
        await finance.apply(issue(orders[currency], sku, currency))

    yen, dollars = await finance.valuation("SKU-JPY"), await finance.valuation("SKU-USD")
    # Issued 333, returned at 333, issued again at 333 (1000 / 3): 667 yen stay.
    assert (yen["currency"], yen["quantity"], Decimal(yen["value"])) == ("JPY", 2, Decimal(667))
    assert (dollars["currency"], dollars["quantity"], dollars["value"]) == ("USD", 2, "666.67")
    # Each currency's books on their own: 667 yen and 666.67 dollars are never added up.
    assert await finance.inventory_account("JPY") == "667"
    assert await finance.inventory_account("USD") == "666.67"
    assert await findings(finance) == {}


# What each answer shows of one sale (1200 goods + 300 shipping) and its cost of goods (one unit
# of three received for 1000): in yen whole, in dinars with three places, though the journal
# keeps two (a third of 1000 dinars is posted as 333.33).
SHOWN = {
    "JPY": {
        "payment": ("1500", "1500", "0"),
        "capture": [("1000", "1500", "0"), ("1100", "0", "1500")],
        "valuation": ("667", "333.5"),
        "cash": "1500",
        "sale": "1500",
        "margin": ("1500", "333", "1167", "77.80"),
    },
    "KWD": {
        "payment": ("1500.000", "1500.000", "0.000"),
        "capture": [("1000", "1500.000", "0.000"), ("1100", "0.000", "1500.000")],
        "valuation": ("666.670", "333.335"),
        "cash": "1500.000",
        "sale": "1500.000",
        "margin": ("1500.000", "333.330", "1166.670", "77.78"),
    },
}


@pytest.mark.parametrize("currency", list(SHOWN))
async def test_every_answer_shows_its_amounts_with_their_currency_s_places(
    finance: Finance, currency: str
) -> None:
    order_id, sku = f"ORD-{uuid.uuid4().hex[:8]}", f"SKU-{currency}"
    placed = OrderPlaced(
        order_id=order_id,
        channel="web",
        customer_id="c",
        lines=(Line(sku=sku, quantity=1),),
        total=money("1500", currency),
    )
    await finance.apply(placed, receipt(sku, currency))
    await sell(finance, order_id, currency)
    await finance.apply(issue(order_id, sku, currency))
    shown = SHOWN[currency]

    payment = await finance.payment(order_id)
    valuation = await finance.valuation(sku)
    sales = (await finance.get_json("/v1/sales"))["items"]
    (margin,) = (await finance.get_json("/v1/margins"))["channels"]

    amounts = ("amount", "captured_amount", "refunded_amount")
    assert tuple(payment[key] for key in amounts) == shown["payment"]
    assert (await finance.journal(order_id))[1] == shown["capture"]
    assert (valuation["value"], valuation["average_cost"]) == shown["valuation"]
    assert await finance.account("1000", currency) == shown["cash"]
    assert [(s["order_id"], s["currency"], s["amount"]) for s in sales] == [
        (order_id, currency, shown["sale"])
    ]
    assert margin["currency"] == currency
    keys = ("revenue", "cost_of_goods", "margin", "margin_percent")
    assert tuple(margin[key] for key in keys) == shown["margin"]
