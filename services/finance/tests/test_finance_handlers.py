"""Service tests: finance's real subscriber and database, fed through FastStream's in-memory
broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from faststream.kafka import TestKafkaBroker

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import StockReceived
from keel_contracts.values import Money
from keel_finance.main import create_app
from keel_finance.settings import Settings

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def finance(tmp_path: Path) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'finance.db'}")
    app = create_app(settings)
    runtime = app.state.runtime
    await runtime.migrate()
    transport = httpx.ASGITransport(app=app)
    async with (
        TestKafkaBroker(runtime.build_broker()) as broker,
        httpx.AsyncClient(transport=transport, base_url="http://finance") as client,
    ):
        yield broker, client
    await runtime.db.dispose()


def receipt(quantity: int, unit_cost: str) -> Envelope:
    return Envelope.wrap(
        StockReceived(
            movement_id=str(new_event_id()),
            sku="MUG-1",
            location_id="WH-1",
            quantity=quantity,
            unit_cost=Money(amount=Decimal(unit_cost), currency="USD"),
            reference="opening",
        ),
        source="inventory",
        correlation_id="MUG-1",
    )


async def test_stock_receipt_posts_inventory_against_opening_balance(
    finance: tuple[Any, httpx.AsyncClient],
) -> None:
    broker, client = finance
    event = receipt(4, "2.505")
    await broker.publish(event.to_bytes(), "inventory.stock.v1", key=b"MUG-1")

    entries = await client.get("/v1/journal", params={"source_id": event.payload["movement_id"]})
    (entry,) = entries.json()
    assert [(line["account"], line["debit"], line["credit"]) for line in entry["lines"]] == [
        ("1300", "10.02", "0.00"),
        ("3900", "0.00", "10.02"),
    ]
    balance = (await client.get("/v1/trial-balance")).json()
    assert balance["balanced"] is True
    assert balance["debits"] == "10.02"


async def test_the_same_event_twice_posts_once(finance: tuple[Any, httpx.AsyncClient]) -> None:
    broker, client = finance
    event = receipt(1, "5.00")
    for _ in range(2):
        await broker.publish(event.to_bytes(), "inventory.stock.v1", key=b"MUG-1")

    entries = await client.get("/v1/journal", params={"source_id": event.payload["movement_id"]})
    assert len(entries.json()) == 1
