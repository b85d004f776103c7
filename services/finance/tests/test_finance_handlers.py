"""Service tests: finance's real subscriber and database, fed through FastStream's in-memory
broker."""

from __future__ import annotations

from decimal import Decimal

import pytest

from finance_harness import Finance
from keel_contracts import new_event_id
from keel_contracts.events import StockReceived
from keel_contracts.values import Money

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def receipt(quantity: int, unit_cost: str) -> StockReceived:
    return StockReceived(
        movement_id=str(new_event_id()),
        sku="MUG-1",
        location_id="WH-1",
        quantity=quantity,
        unit_cost=Money(amount=Decimal(unit_cost), currency="USD"),
        reference="opening",
    )


async def test_stock_receipt_posts_inventory_against_opening_balance(finance: Finance) -> None:
    event = await finance.publish(receipt(4, "2.505"))

    entries = await finance.client.get(
        "/v1/journal", params={"source_id": event.payload["movement_id"]}
    )
    (entry,) = entries.json()
    assert [(line["account"], line["debit"], line["credit"]) for line in entry["lines"]] == [
        ("1300", "10.02", "0.00"),
        ("3900", "0.00", "10.02"),
    ]
    books = await finance.books("USD")
    assert books is not None
    assert (books["debits"], books["balanced"]) == ("10.02", True)


async def test_the_same_event_twice_posts_once(finance: Finance) -> None:
    event = await finance.publish(receipt(1, "5.00"))
    # Delivered again: the same envelope, event id and all.
    await finance.broker.publish(event.to_bytes(), "inventory.stock.v1", key=b"MUG-1")

    entries = await finance.client.get(
        "/v1/journal", params={"source_id": event.payload["movement_id"]}
    )
    assert len(entries.json()) == 1
