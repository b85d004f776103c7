"""The order service on a real (SQLite) database, with inventory's and finance's answers fed
through FastStream's in-memory broker: the `stack` fixture and the steps its service tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest_asyncio

from keel_contracts import Envelope, Message
from keel_contracts.events import (
    Allocation,
    ItemRegistered,
    PaymentAuthorized,
    StockReserved,
)
from keel_contracts.values import Money
from keel_kit.testing import ServiceUnderTest, running, statements_run
from keel_order.context import OrderContext, Work
from keel_order.main import create_app
from keel_order.settings import Settings

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


# A channel that releases confirmed orders an hour late (and backorders what is short).
SLOW_CHANNEL: dict[str, Any] = {
    "channel_id": "slow",
    "name": "Slow",
    "market_country": "US",
    "backorder_policy": "backorder",
    "release_delay_seconds": 3600,
}


class Stack(ServiceUnderTest):
    @property
    def context(self) -> OrderContext:
        context = self.runtime.context
        assert isinstance(context, OrderContext)
        return context

    async def place(self, body: dict[str, Any] | None = None, key: str | None = None) -> str:
        """Place an order (the sample one by default), keyed by its external id by default."""
        body = body or ORDER
        key = key or str(body["external_id"])
        response = await self.client.post("/v1/orders", json=body, headers={"Idempotency-Key": key})
        assert response.status_code == 202, response.text
        order_id: str = response.json()["order_id"]
        return order_id

    async def order(self, order_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.get_json(f"/v1/orders/{order_id}")
        return body

    async def sent(self, order_id: str) -> list[Envelope]:
        """Everything the order service staged about the order, on any topic, oldest first
        (the saga's tests care how events and commands interleave)."""
        return await self.staged(key=order_id)

    async def run_job(self, job: Callable[[Work], Awaitable[None]], **changes: Any) -> None:
        """Run a periodic job once, now, with the context's fields `changes` (a shorter
        timeout, say) for this run only."""
        async with replace(self.context, **changes).unit_of_work() as work:
            await job(work)

    async def statements_to_apply(
        self, messages: list[Message], *, uncounted: str | None = None
    ) -> int:
        """Apply the messages as one consumer batch, each on its registry topic, and return
        how many statements it took, leaving out those starting with `uncounted`."""
        with statements_run(self.db) as statements:
            applied = await self.apply(*messages)
        assert applied == len(messages)
        return sum(1 for s in statements if uncounted is None or not s.startswith(uncounted))


S = TypeVar("S", bound=Stack)


@asynccontextmanager
async def running_order(
    tmp_path: Path, kind: type[S], *, lags: dict[str, int | None] | None = None
) -> AsyncIterator[S]:
    """The order service running as a `kind` of stack, with the sample order's mug known."""
    app = create_app(
        Settings(state_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'order.db'}")
    )
    async with running(app, kind, lags=lags) as stack:
        mug = ItemRegistered(
            sku="MUG-1", name="Mug", unit_cost=Money(amount=Decimal("4"), currency="USD")
        )
        await stack.publish(mug)
        yield stack


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_order(tmp_path, Stack) as stack:
        yield stack


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
