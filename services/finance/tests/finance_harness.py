"""Finance on a real (SQLite) database with its real subscriber, fed through FastStream's
in-memory broker: the `finance` fixture and helpers its service tests share. Answers are read
from the outbox, since no relay runs here."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from faststream.kafka import TestKafkaBroker
from sqlmodel import col, select

from keel_contracts import Envelope
from keel_contracts.commands import (
    AuthorizePayment,
    CapturePayment,
    ResolvePaymentReview,
    VoidPayment,
)
from keel_contracts.values import Money
from keel_finance.main import create_app
from keel_finance.payments import Authorization, SimulatedProvider
from keel_finance.settings import Settings
from keel_kit.runtime import ServiceRuntime
from keel_kit.tables import OutboxRecord

PaymentCommand = AuthorizePayment | CapturePayment | VoidPayment | ResolvePaymentReview

COMMANDS = "finance.commands.v1"


class CountingProvider(SimulatedProvider):
    """The simulator, counting how often finance asks it to authorize."""

    def __init__(self) -> None:
        super().__init__()
        self.authorizations = 0

    async def authorize(
        self, *, order_id: str, amount: Money, method: str, token: str
    ) -> Authorization:
        self.authorizations += 1
        return await super().authorize(order_id=order_id, amount=amount, method=method, token=token)


@dataclass
class Finance:
    broker: Any
    client: httpx.AsyncClient
    runtime: ServiceRuntime
    provider: CountingProvider

    async def send(self, command: PaymentCommand) -> Envelope:
        envelope = Envelope.wrap(command, source="order", correlation_id=command.order_id)
        await self.broker.publish(envelope.to_bytes(), COMMANDS, key=command.order_id.encode())
        return envelope

    async def rows(self, topic: str, key: str) -> list[OutboxRecord]:
        async with self.runtime.db.transaction() as session:
            query = (
                select(OutboxRecord)
                .where(OutboxRecord.topic == topic, OutboxRecord.key == key)
                .order_by(col(OutboxRecord.id))
            )
            return list((await session.exec(query)).all())

    async def answers(self, order_id: str) -> list[tuple[str, dict[str, Any]]]:
        """(type, payload) of every message finance staged on finance.payment.v1 for the order."""
        rows = await self.rows("finance.payment.v1", order_id)
        return [(row.type, Envelope.from_bytes(row.body).payload) for row in rows]

    async def dead_letters(self, order_id: str) -> list[str]:
        """The error of every command of this order that finance dead-lettered."""
        rows = await self.rows("finance-service.dlq", order_id)
        return [str(row.headers["keel-error"]) for row in rows]

    async def payment(self, order_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/payments/{order_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def journal(self, order_id: str) -> list[list[tuple[str, str, str]]]:
        entries = (await self.client.get("/v1/journal", params={"source_id": order_id})).json()
        return [[(ln["account"], ln["debit"], ln["credit"]) for ln in e["lines"]] for e in entries]


@pytest_asyncio.fixture
async def finance(tmp_path: Path) -> AsyncIterator[Finance]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'finance.db'}")
    provider = CountingProvider()
    app = create_app(settings, payment_provider=provider)
    runtime = app.state.runtime
    await runtime.migrate()
    transport = httpx.ASGITransport(app=app)
    async with (
        TestKafkaBroker(runtime.build_broker()) as broker,
        httpx.AsyncClient(transport=transport, base_url="http://finance") as client,
    ):
        yield Finance(broker, client, runtime, provider)
    await runtime.db.dispose()


def new_order() -> str:
    return f"ORD-{uuid.uuid4().hex[:10]}"


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")
