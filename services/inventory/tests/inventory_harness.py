"""The inventory service under test (real SQLite database, FastStream's in-memory broker) and
the helpers its tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from faststream.kafka import TestKafkaBroker
from sqlmodel import col, select

from keel_contracts import Envelope, Message
from keel_contracts.commands import ReleaseStock, ReserveStock
from keel_contracts.values import Line
from keel_inventory.handlers import handlers
from keel_inventory.main import create_app
from keel_inventory.settings import Settings
from keel_kit.consumer import BatchProcessor
from keel_kit.runtime import ServiceRuntime
from keel_kit.tables import OutboxRecord
from keel_kit.testing import check_findings
from kit_records import registry_records

COMMANDS = "inventory.commands.v1"
ANSWERS = "inventory.reservation.v1"


@dataclass
class Inventory:
    broker: Any
    client: httpx.AsyncClient
    runtime: ServiceRuntime

    async def send(self, command: ReserveStock | ReleaseStock) -> None:
        envelope = Envelope.wrap(command, source="order", correlation_id=command.order_id)
        await self.broker.publish(envelope.to_bytes(), COMMANDS, key=command.order_id.encode())

    async def answers(self) -> list[Envelope]:
        """Everything inventory said on the reservation topic, oldest first."""
        async with self.runtime.db.transaction() as session:
            rows = await session.exec(
                select(OutboxRecord)
                .where(OutboxRecord.topic == ANSWERS)
                .order_by(col(OutboxRecord.id))
            )
            return [Envelope.from_bytes(row.body) for row in rows.all()]

    async def stock(self, sku: str) -> dict[str, tuple[int, int]]:
        """(sellable, reserved) per location, as the availability endpoint shows it."""
        body = (await self.client.get(f"/v1/availability/{sku}")).json()
        return {loc["location_id"]: (loc["sellable"], loc["reserved"]) for loc in body["locations"]}

    async def receive(self, sku: str, location_id: str, quantity: int) -> None:
        body = {
            "sku": sku,
            "location_id": location_id,
            "quantity": quantity,
            "unit_cost": "1.00",
            "reference": "test",
        }
        response = await self.client.post("/v1/receipts", json=body)
        assert response.status_code == 201, response.text

    async def assert_invariants_hold(self) -> None:
        body = (await self.client.get("/v1/invariants")).json()
        assert body == {"ledger_matches_balances": True, "oversold": [], "mismatches": []}
        assert check_findings((await self.client.get("/v1/checks")).json()) == {}


@pytest_asyncio.fixture
async def inventory(tmp_path: Path) -> AsyncIterator[Inventory]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'inventory.db'}")
    app = create_app(settings)
    runtime: ServiceRuntime = app.state.runtime
    await runtime.migrate()
    transport = httpx.ASGITransport(app=app)
    async with (
        TestKafkaBroker(runtime.build_broker()) as broker,
        httpx.AsyncClient(transport=transport, base_url="http://inventory") as client,
    ):
        service = Inventory(broker, client, runtime)
        for sku in ("MUG", "PLATE"):
            item = {"sku": sku, "name": sku.title(), "unit_cost": "1.00", "currency": "USD"}
            assert (await client.post("/v1/items", json=item)).status_code == 201
        for location_id in ("WH-A", "WH-B"):
            location = {
                "location_id": location_id,
                "name": location_id,
                "kind": "warehouse",
                "country": "US",
                "postal_code": "10001",
            }
            assert (await client.post("/v1/locations", json=location)).status_code == 201
        yield service
    await runtime.db.dispose()


def reserve(order_id: str, *lines: tuple[str, int], backorder: bool = False) -> ReserveStock:
    return ReserveStock(
        order_id=order_id,
        channel="web",
        lines=tuple(Line(sku=sku, quantity=n) for sku, n in lines),
        backorder=backorder,
    )


async def apply_batch(inventory: Inventory, *messages: Message) -> int:
    """Apply the messages as one consumer batch, each wrapped anew on its registry topic and
    keyed as the registry says; return how many took effect."""
    processor = BatchProcessor(
        consumer="inventory-service",
        handlers=handlers,
        db=inventory.runtime.db,
        outbox=inventory.runtime.outbox,
        metrics=inventory.runtime.metrics,
        max_attempts=3,
        backoff_seconds=0.01,
    )
    return await processor.process(registry_records(*messages))
