"""The order service on a real (SQLite) database, with inventory's and finance's answers fed
through FastStream's in-memory broker: the `stack` fixture and helpers its service tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from faststream.kafka import TestKafkaBroker
from sqlalchemy import event
from sqlmodel import col, select

from keel_contracts import Envelope, Message, topic_for_message
from keel_contracts.events import (
    Allocation,
    ItemRegistered,
    PaymentAuthorized,
    StockReserved,
)
from keel_contracts.values import Money
from keel_kit.catchup import FixedLag, ReplicaCatchup
from keel_kit.consumer import BatchProcessor
from keel_kit.runtime import ServiceRuntime
from keel_kit.tables import OutboxRecord
from keel_order.handlers import handlers
from keel_order.main import create_app
from keel_order.settings import Settings
from kit_records import registry_records

ORDER: dict[str, Any] = {
    "channel": "web",
    "external_id": "W-1",
    "customer": {"customer_id": "C-1", "email": "ann@example.com"},
    "currency": "USD",
    "lines": [{"sku": "MUG-1", "quantity": 2, "unit_price": "12.50"}],
    "shipping": {
        "amount": "5.00",
        "address": {
            "name": "Ann",
            "line1": "1 Main St",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
        },
    },
    "payment": {"method": "card", "token": "tok_visa"},
}


@dataclass
class Stack:
    runtime: ServiceRuntime
    broker: Any
    client: httpx.AsyncClient

    async def answer(self, message: Message) -> None:
        envelope = Envelope.wrap(message, source="test", correlation_id="t")
        topic = topic_for_message(type(message)).name
        await self.broker.publish(envelope.to_bytes(), topic, key=b"k")

    async def place(self, body: dict[str, Any] | None = None, key: str | None = None) -> str:
        """Place an order (the sample one by default), keyed by its external id by default."""
        body = body or ORDER
        key = key or str(body["external_id"])
        response = await self.client.post("/v1/orders", json=body, headers={"Idempotency-Key": key})
        assert response.status_code == 202, response.text
        order_id: str = response.json()["order_id"]
        return order_id

    async def order(self, order_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/orders/{order_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def sent(self, order_id: str) -> list[Envelope]:
        async with self.runtime.db.transaction() as session:
            rows = await session.exec(
                select(OutboxRecord)
                .where(OutboxRecord.key == order_id)
                .order_by(col(OutboxRecord.id))
            )
            return [Envelope.from_bytes(row.body) for row in rows.all()]


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'order.db'}"))
    runtime: ServiceRuntime = app.state.runtime
    runtime.catchup = ReplicaCatchup(FixedLag())  # no broker here: replicas count as caught up
    await runtime.migrate()
    transport = httpx.ASGITransport(app=app)
    async with (
        TestKafkaBroker(runtime.build_broker()) as broker,
        httpx.AsyncClient(transport=transport, base_url="http://order") as client,
    ):
        stack = Stack(runtime, broker, client)
        await stack.answer(
            ItemRegistered(
                sku="MUG-1", name="Mug", unit_cost=Money(amount=Decimal("4"), currency="USD")
            )
        )
        yield stack
    await runtime.db.dispose()


def reserved(order_id: str, *allocations: tuple[str, int]) -> StockReserved:
    return StockReserved(
        order_id=order_id,
        reservation_id=f"r-{order_id}",
        allocations=tuple(
            Allocation(location_id=loc, sku="MUG-1", quantity=q) for loc, q in allocations
        ),
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


def authorized(order_id: str) -> PaymentAuthorized:
    return PaymentAuthorized(
        order_id=order_id,
        authorization_id=f"a-{order_id}",
        amount=Money(amount=Decimal("30.00"), currency="USD"),
    )


async def statements_to_apply(
    stack: Stack, messages: list[Message], *, uncounted: str | None = None
) -> int:
    """Apply the messages as one consumer batch, each on its registry topic, and return how
    many statements it took, leaving out those starting with `uncounted`."""
    records = registry_records(*messages)
    runtime = stack.runtime
    processor = BatchProcessor(
        consumer=runtime.settings.consumer_group,
        handlers=handlers,
        db=runtime.db,
        outbox=runtime.outbox,
        metrics=runtime.metrics,
        max_attempts=1,
        backoff_seconds=0.01,
    )
    count = 0

    def counted(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal count
        if uncounted is None or not statement.startswith(uncounted):
            count += 1

    engine = runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counted)
    try:
        applied = await processor.process(records)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    assert applied == len(messages)
    return count
