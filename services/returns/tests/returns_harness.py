"""The returns service on a real (SQLite) database, with the order service's, fulfillment's and
finance's events fed through FastStream's in-memory broker or applied as one consumer batch: the
`stack` fixture and the steps its service tests share."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
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
    OrderedLine,
    OrderPlaced,
    OrderReleased,
    PaymentRefunded,
    ShipmentShipped,
)
from keel_contracts.values import Line, Money
from keel_kit.catchup import FixedLag, ReplicaCatchup
from keel_kit.consumer import BatchProcessor, Record
from keel_kit.runtime import ServiceRuntime
from keel_kit.tables import OutboxRecord
from keel_returns.main import create_app
from keel_returns.settings import Settings

Priced = tuple[str, int, str | None]  # sku, quantity, unit price

_offsets = itertools.count()


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def envelope(message: Message, at: datetime | None = None) -> Envelope:
    """The message wrapped as a test's event, as if it happened at `at` if given."""
    wrapped = Envelope.wrap(message, source="test", correlation_id="t")
    return wrapped if at is None else wrapped.model_copy(update={"occurred_at": at})


def paid(refund: dict[str, Any], amount: str, currency: str = "USD") -> PaymentRefunded:
    """Finance's answer to a refund as the return view shows it."""
    return PaymentRefunded(
        order_id=refund["order_id"],
        refund_id=refund["refund_id"],
        return_id=refund["return_id"],
        amount=Money(amount=Decimal(amount), currency=currency),
    )


@dataclass
class Stack:
    runtime: ServiceRuntime
    broker: Any
    client: httpx.AsyncClient

    async def deliver(self, message: Message, *, at: datetime | None = None) -> Envelope:
        """Publish an event as its owner would, optionally as if it happened at `at`."""
        wrapped = envelope(message, at)
        await self.publish(wrapped)
        return wrapped

    async def publish(self, wrapped: Envelope) -> None:
        topic = topic_for_message(Message.registry[wrapped.type]).name
        await self.broker.publish(wrapped.to_bytes(), topic, key=b"k")

    async def apply_at(self, *messages: tuple[Message, datetime | None]) -> tuple[int, list[str]]:
        """Apply the messages, each as if it happened at its moment, as one consumer batch;
        return how many took effect and the SELECTs it ran."""
        runtime = self.runtime
        processor = BatchProcessor(
            consumer=runtime.settings.consumer_group,
            handlers=runtime.handlers,
            db=runtime.db,
            outbox=runtime.outbox,
            metrics=runtime.metrics,
            max_attempts=1,
            backoff_seconds=0.01,
        )
        records = [
            Record(
                topic=topic_for_message(type(m)).name,
                partition=0,
                offset=next(_offsets),
                key=b"k",
                value=envelope(m, at).to_bytes(),
            )
            for m, at in messages
        ]
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                statements.append(statement)

        engine = runtime.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            applied = await processor.process(records)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return applied, statements

    async def order(
        self, order_id: str, *lines: Priced, total: str, shipping: str | None = "0.00"
    ) -> None:
        """An order placed with these prices, released and shipped whole."""
        await self.deliver(
            OrderPlaced(
                order_id=order_id,
                channel="web",
                customer_id="c-1",
                lines=tuple(
                    OrderedLine(
                        sku=sku,
                        quantity=q,
                        unit_price=None if p is None else Money(amount=p, currency="USD"),
                    )
                    for sku, q, p in lines
                ),
                total=Money(amount=Decimal(total), currency="USD"),
                shipping=None if shipping is None else Money(amount=shipping, currency="USD"),
            )
        )
        await self.deliver(OrderReleased(order_id=order_id, channel="web", allocations=()))
        await self.deliver(
            ShipmentShipped(
                shipment_id=f"s-{order_id}",
                order_id=order_id,
                location_id="WH-A",
                lines=tuple(Line(sku=sku, quantity=q) for sku, q, _ in lines),
                carrier="UPS",
                tracking_number="1Z",
            )
        )

    async def authorize(
        self, order_id: str, *lines: tuple[str, int], reason: str = "changed mind"
    ) -> str:
        body = {
            "order_id": order_id,
            "lines": [{"sku": sku, "quantity": q, "reason": reason} for sku, q in lines],
        }
        response = await self.client.post("/v1/returns", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["return_id"])

    async def receive(
        self, return_id: str, *lines: tuple[str, int], location: str = "WH-R"
    ) -> httpx.Response:
        body = {
            "location_id": location,
            "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
        }
        return await self.client.post(f"/v1/returns/{return_id}/receipt", json=body)

    async def inspect(self, return_id: str, *lines: tuple[str, int, str]) -> httpx.Response:
        body = {"lines": [{"sku": sku, "quantity": q, "grade": g} for sku, q, g in lines]}
        return await self.client.post(f"/v1/returns/{return_id}/inspection", json=body)

    async def authorized(self, order_id: str, sku: str, price: str) -> str:
        """An order of one unit at `price`, shipped, and a return of it authorized."""
        await self.order(order_id, (sku, 1, price), total=price)
        return await self.authorize(order_id, (sku, 1), reason="broken")

    async def returned(self, order_id: str, sku: str, price: str, grade: str = "A") -> str:
        """An order of one unit at `price`, shipped, returned, received and graded: its refund
        is requested (or waits for approval above the threshold)."""
        return_id = await self.authorized(order_id, sku, price)
        received = await self.receive(return_id, (sku, 1))
        assert received.status_code == 200, received.text
        inspected = await self.inspect(return_id, (sku, 1, grade))
        assert inspected.status_code == 200, inspected.text
        return return_id

    async def view(self, return_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/returns/{return_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def sent(self, *types: str) -> list[Envelope]:
        """What returns staged on returns.return.v1 (of these types, if given), oldest first."""
        async with self.runtime.db.transaction() as session:
            rows = await session.exec(
                select(OutboxRecord)
                .where(OutboxRecord.topic == "returns.return.v1")
                .order_by(col(OutboxRecord.id))
            )
            envelopes = [Envelope.from_bytes(row.body) for row in rows.all()]
        return [e for e in envelopes if not types or e.type in types]


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'returns.db'}"))
    runtime: ServiceRuntime = app.state.runtime
    runtime.catchup = ReplicaCatchup(FixedLag())  # no broker here: replicas count as caught up
    await runtime.migrate()
    async with (
        TestKafkaBroker(runtime.build_broker()) as broker,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client,
    ):
        yield Stack(runtime, broker, client)
    await runtime.db.dispose()
