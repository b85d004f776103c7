"""Finance on a real (SQLite) database with its real subscriber, fed through FastStream's
in-memory broker or straight in the kit's batches: the `finance` fixture and helpers its service
tests share. Answers are read from the outbox, since no relay runs here; inventory's HTTP API is
played by `FakeInventory`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from faststream.kafka import TestKafkaBroker
from sqlmodel import col, select

from keel_contracts import Envelope, Message
from keel_contracts.commands import (
    AuthorizePayment,
    CapturePayment,
    ResolvePaymentReview,
    VoidPayment,
)
from keel_contracts.values import Money
from keel_finance.handlers import handlers
from keel_finance.main import create_app
from keel_finance.payments import Authorization, SimulatedProvider
from keel_finance.settings import Settings
from keel_kit.consumer import BatchProcessor
from keel_kit.runtime import ServiceRuntime
from keel_kit.tables import OutboxRecord
from kit_records import registry_records

PaymentCommand = AuthorizePayment | CapturePayment | VoidPayment | ResolvePaymentReview

COMMANDS = "finance.commands.v1"
INVENTORY_URL = "http://inventory.test"


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
class FakeInventory:
    """Inventory's `GET /v1/balances` as finance reads it: each SKU's valued quantity from
    `valued`, paged by `after` and `limit` as inventory pages; unreachable while `down`, and
    answering `status` with a problem document if it is not 200."""

    valued: dict[str, int] = field(default_factory=dict)
    down: bool = False
    status: int = 200
    pages: int = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        assert (request.url.host, request.url.path) == ("inventory.test", "/v1/balances")
        self.pages += 1
        if self.status != 200:
            problem = {"title": "Internal error", "status": self.status, "detail": "broken"}
            return httpx.Response(self.status, json=problem)
        after = request.url.params.get("after")
        limit = int(request.url.params["limit"])
        skus = [sku for sku in sorted(self.valued) if after is None or sku > after][:limit]
        items = [
            {
                "sku": sku,
                "totals": {"sellable": self.valued[sku]},
                "valued_quantity": self.valued[sku],
            }
            for sku in skus
        ]
        cursor = skus[-1] if len(skus) == limit else None
        return httpx.Response(200, json={"items": items, "next_cursor": cursor})


@dataclass
class Finance:
    broker: Any
    client: httpx.AsyncClient
    runtime: ServiceRuntime
    provider: CountingProvider
    inventory: FakeInventory

    async def apply(self, *messages: Message) -> int:
        """Apply the messages as one consumer batch, each on its registry topic keyed as the
        registry says; return how many took effect."""
        processor = BatchProcessor(
            consumer=self.runtime.settings.consumer_group,
            handlers=handlers,
            db=self.runtime.db,
            outbox=self.runtime.outbox,
            metrics=self.runtime.metrics,
            max_attempts=1,
            backoff_seconds=0.01,
        )
        return await processor.process(registry_records(*messages))

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

    async def dead_letters(self, key: str) -> list[str]:
        """The error of every message of this key (an order's commands, a SKU's stock events)
        that finance dead-lettered."""
        rows = await self.rows("finance-service.dlq", key)
        return [str(row.headers["keel-error"]) for row in rows]

    async def payment(self, order_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/payments/{order_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def journal(self, source_id: str) -> list[list[tuple[str, str, str]]]:
        """(account, debit, credit) of each entry of the source (or order), oldest first."""
        entries = (await self.client.get("/v1/journal", params={"source_id": source_id})).json()
        return [[(ln["account"], ln["debit"], ln["credit"]) for ln in e["lines"]] for e in entries]

    async def valuation(self, sku: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/valuation/{sku}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def account(self, code: str) -> str:
        """The account's balance (debits less credits), from a trial balance that balances."""
        balance = (await self.client.get("/v1/trial-balance")).json()
        assert balance["balanced"] is True
        return str(next(a for a in balance["accounts"] if a["account"] == code)["balance"])

    async def inventory_account(self) -> str:
        return await self.account("1300")


@pytest_asyncio.fixture
async def finance(tmp_path: Path) -> AsyncIterator[Finance]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'finance.db'}", inventory_url=INVENTORY_URL
    )
    provider = CountingProvider()
    inventory = FakeInventory()
    app = create_app(
        settings,
        payment_provider=provider,
        inventory_transport=httpx.MockTransport(inventory.handle),
    )
    runtime = app.state.runtime
    await runtime.migrate()
    transport = httpx.ASGITransport(app=app)
    async with (
        TestKafkaBroker(runtime.build_broker()) as broker,
        httpx.AsyncClient(transport=transport, base_url="http://finance") as client,
    ):
        yield Finance(broker, client, runtime, provider, inventory)
    await runtime.db.dispose()


def new_order() -> str:
    return f"ORD-{uuid.uuid4().hex[:10]}"


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")
