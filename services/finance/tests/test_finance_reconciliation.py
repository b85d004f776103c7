"""Service tests of the inventory reconciliation: the journal's inventory account against the
valuations, and each SKU's valued quantity against the one inventory's HTTP API reports (played
here by the harness's FakeInventory)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from finance_harness import Finance
from keel_contracts import new_event_id
from keel_contracts.events import StockIssued, StockReceived, StockReturned
from keel_contracts.values import Money

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

URL = "/v1/reconciliation/inventory"


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def receipt(sku: str, quantity: int, unit_cost: str) -> StockReceived:
    return StockReceived(
        movement_id=str(new_event_id()),
        sku=sku,
        location_id="WH-1",
        quantity=quantity,
        unit_cost=usd(unit_cost),
        reference="opening",
    )


def issue(sku: str, quantity: int, unit_cost: str = "6.00") -> StockIssued:
    return StockIssued(
        order_id="ORD-1",
        shipment_id="S-1",
        location_id="WH-1",
        sku=sku,
        quantity=quantity,
        unit_cost=usd(unit_cost),
        movement_id=str(new_event_id()),
    )


async def reconcile(finance: Finance) -> dict[str, Any]:
    response = await finance.client.get(URL)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body.pop("as_of").endswith(("Z", "+00:00"))
    return body


async def test_books_and_stock_that_agree_match(finance: Finance) -> None:
    await finance.apply(receipt("MUG-1", 10, "2.50"), receipt("PLATE-1", 4, "1.25"))
    await finance.apply(issue("MUG-1", 3))
    await finance.apply(
        StockReturned(
            return_id="RMA-1",
            order_id="ORD-1",
            location_id="WH-1",
            sku="MUG-1",
            quantity=1,
            state="quarantine",
            disposition="refurbish",
            unit_cost=usd("9.99"),
            movement_id=str(new_event_id()),
        )
    )
    finance.inventory.valued = {"MUG-1": 8, "PLATE-1": 4}

    assert await reconcile(finance) == {
        "matches": True,
        "account_balance": "25.00",  # 25.00 + 5.00 received, 7.50 issued, 2.50 returned
        "valuation_total": "25.00",
        "difference": "0.00",
        "skus_compared": 2,
        "skus_mismatched": 0,
        "mismatches": [],
    }


async def test_a_sku_whose_quantities_differ_is_listed_with_both(finance: Finance) -> None:
    await finance.apply(receipt("MUG-1", 10, "2.50"), receipt("PLATE-1", 4, "1.25"))
    finance.inventory.valued = {"MUG-1": 9, "PLATE-1": 4, "BOWL-1": 2}

    assert await reconcile(finance) == {
        "matches": False,
        "account_balance": "30.00",
        "valuation_total": "30.00",
        "difference": "0.00",
        "skus_compared": 3,
        "skus_mismatched": 2,
        "mismatches": [
            {"sku": "BOWL-1", "finance_quantity": 0, "inventory_quantity": 2},
            {"sku": "MUG-1", "finance_quantity": 10, "inventory_quantity": 9},
        ],
    }


async def test_an_issue_finance_never_valued_shows_as_quantity_not_money(
    finance: Finance,
) -> None:
    # Stock from before finance valued it: the issue is costed at the event's cost and the
    # valuation owes the units, so the account still equals the valuations.
    await finance.apply(receipt("MUG-1", 1, "5.00"))
    await finance.apply(issue("MUG-1", 3, unit_cost="6.00"), issue("OLD-1", 2, unit_cost="4.00"))
    finance.inventory.valued = {"MUG-1": 0, "OLD-1": 0}

    assert await reconcile(finance) == {
        "matches": False,
        "account_balance": "-20.00",
        "valuation_total": "-20.00",
        "difference": "0.00",
        "skus_compared": 2,
        "skus_mismatched": 2,
        "mismatches": [
            {"sku": "MUG-1", "finance_quantity": -2, "inventory_quantity": 0},
            {"sku": "OLD-1", "finance_quantity": -2, "inventory_quantity": 0},
        ],
    }


async def test_inventory_is_read_a_page_at_a_time(finance: Finance) -> None:
    await finance.apply(receipt("MUG-1", 2, "1.00"))
    finance.inventory.valued = {f"SKU-{n:04}": 0 for n in range(1500)} | {"MUG-1": 2}

    body = await reconcile(finance)

    assert finance.inventory.pages == 2
    assert (body["matches"], body["skus_compared"]) == (True, 1501)


async def test_unreachable_inventory_is_a_503_naming_it(finance: Finance) -> None:
    finance.inventory.down = True

    response = await finance.client.get(URL)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 503
    assert problem["detail"].startswith("inventory at http://inventory.test is unreachable")


async def test_inventory_answering_with_an_error_is_a_503_naming_it(finance: Finance) -> None:
    finance.inventory.status = 500

    response = await finance.client.get(URL)

    assert response.status_code == 503
    assert response.json()["detail"] == (
        "inventory at http://inventory.test answered 500 to GET /v1/balances"
    )
