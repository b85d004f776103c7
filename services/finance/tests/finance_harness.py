"""Finance on a real (SQLite) database with its real subscriber (`keel_kit.testing`): the
`finance` fixture and the steps its service tests share. Answers are read from the outbox, since
no relay runs here; inventory's HTTP API is played by `FakeInventory`, the payment provider by
the simulator, counting its authorizations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from keel_contracts import money
from keel_contracts.values import Money
from keel_finance.main import create_app
from keel_finance.payments import Authorization, SimulatedProvider
from keel_finance.settings import Settings
from keel_kit.testing import ServiceUnderTest, running

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
    `valued`, paged by `cursor` and `limit` (the cursor is the last SKU shown; finance only hands
    it back); unreachable while `down`, and answering `status` with a problem document if it is
    not 200."""

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
        cursor = request.url.params.get("cursor")
        limit = int(request.url.params["limit"])
        skus = [sku for sku in sorted(self.valued) if cursor is None or sku > cursor][:limit]
        items = [
            {
                "sku": sku,
                "totals": {"sellable": self.valued[sku]},
                "valued_quantity": self.valued[sku],
            }
            for sku in skus
        ]
        next_cursor = skus[-1] if len(skus) == limit else None
        return httpx.Response(200, json={"items": items, "next_cursor": next_cursor})


class Finance(ServiceUnderTest):
    inventory: FakeInventory  # set by the fixture: what inventory's HTTP API answers

    @property
    def provider(self) -> CountingProvider:
        """The payment provider finance's context holds (the fixture's counting simulator)."""
        provider: CountingProvider = self.context.payments
        return provider

    async def answers(self, order_id: str) -> list[tuple[str, dict[str, Any]]]:
        """(type, payload) of every message finance staged on finance.payment.v1 for the order."""
        return [(e.type, e.payload) for e in await self.staged("finance.payment.v1", order_id)]

    async def payment(self, order_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.get_json(f"/v1/payments/{order_id}")
        return body

    async def journal(self, source_id: str) -> list[list[tuple[str, str, str]]]:
        """(account, debit, credit) of each entry of the source (or order), oldest first."""
        entries = await self.get_json("/v1/journal", source_id=source_id)
        return [[(ln["account"], ln["debit"], ln["credit"]) for ln in e["lines"]] for e in entries]

    async def valuation(self, sku: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.get_json(f"/v1/valuation/{sku}")
        return body

    async def books(self, currency: str = "USD") -> dict[str, Any] | None:
        """The trial balance of the entries in `currency` (None if none is posted in it), from
        a trial balance that balances in every currency."""
        balance = await self.get_json("/v1/trial-balance")
        assert balance["balanced"] is True
        books = [c for c in balance["currencies"] if c["currency"] == currency]
        return books[0] if books else None

    async def account(self, code: str, currency: str = "USD") -> str:
        """The account's balance (debits less credits) in `currency`, zero before anything is
        posted in it."""
        books = await self.books(currency)
        if books is None:
            return str(money.shown(Decimal(0), currency))
        return str(next(a["balance"] for a in books["accounts"] if a["account"] == code))

    async def inventory_account(self, currency: str = "USD") -> str:
        return await self.account("1300", currency)


@pytest_asyncio.fixture
async def finance(tmp_path: Path) -> AsyncIterator[Finance]:
    async with finance_running(tmp_path) as service:
        yield service


@asynccontextmanager
async def finance_running(folder: Path, name: str = "finance") -> AsyncIterator[Finance]:
    """Finance started on its own SQLite file `name` in `folder`, asking a fake inventory."""
    settings = Settings(
        state_dir=folder,
        database_url=f"sqlite+aiosqlite:///{folder / name}.db",
        inventory_url=INVENTORY_URL,
    )
    inventory = FakeInventory()
    app = create_app(
        settings,
        payment_provider=CountingProvider(),
        inventory_transport=httpx.MockTransport(inventory.handle),
    )
    async with running(app, Finance) as finance:
        finance.inventory = inventory
        yield finance


def new_order() -> str:
    return f"ORD-{uuid.uuid4().hex[:10]}"


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")
