"""The procurement service under test (real SQLite database, FastStream's in-memory broker)
with the item master and locations replicated into it, and the helpers its tests share."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest_asyncio

from keel_contracts import Envelope
from keel_contracts.events import ItemRegistered, LocationRegistered
from keel_contracts.roles import Role
from keel_contracts.values import Money
from keel_kit.testing import ServiceUnderTest, running
from keel_procurement.main import create_app
from keel_procurement.models import PurchaseOrder
from keel_procurement.settings import Settings

PURCHASE_ORDERS = "procurement.purchase_order.v1"
SUPPLIER = {"supplier_id": "ACME", "name": "Acme Supplies", "lead_time_days": 7}
# 100 x 2.50 + 40 x 4.125 = 415.00, under the approval threshold.
ORDER: dict[str, Any] = {
    "supplier_id": "ACME",
    "location_id": "WH-EAST",
    "lines": [
        {"sku": "MUG-1", "quantity": 100, "unit_cost": "2.50"},
        {"sku": "PLATE-2", "quantity": 40, "unit_cost": "4.125"},
    ],
}
TODAY = datetime.now(UTC).date()
# The buyer who approves what the tests draft: the client (the admin `TEST_ADMIN`) drafts, and
# whoever drafts an order may not approve it.
BUYER = "ann"
TOMORROW = (TODAY + timedelta(days=1)).isoformat()


def order_with(**changes: Any) -> dict[str, Any]:
    """ORDER with some of its fields replaced."""
    body = copy.deepcopy(ORDER)
    body.update(changes)
    return body


# 5,000 x 2.50 = 12,500.00: above the default threshold of 10,000.00.
LARGE = order_with(lines=[{"sku": "MUG-1", "quantity": 5000, "unit_cost": "2.50"}])


class Procurement(ServiceUnderTest):
    async def seed(self) -> None:
        """The two items and the warehouse the tests order, and the supplier they order from."""
        for sku, cost in (("MUG-1", "2.50"), ("PLATE-2", "4.125")):
            await self.publish(
                ItemRegistered(
                    sku=sku, name=sku, unit_cost=Money(amount=Decimal(cost), currency="USD")
                )
            )
        await self.publish(
            LocationRegistered(
                location_id="WH-EAST",
                name="East",
                kind="warehouse",
                country="US",
                postal_code="10001",
            )
        )
        assert (await self.client.post("/v1/suppliers", json=SUPPLIER)).status_code == 201

    async def draft(
        self, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Draft a purchase order (ORDER unless `body`), as the admin unless `headers` say who."""
        response = await self.client.post(
            "/v1/purchase-orders", json=body or ORDER, headers=headers
        )
        assert response.status_code == 201, response.text
        po: dict[str, Any] = response.json()
        return po

    async def act(
        self,
        po_id: str,
        action: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """POST an action on a purchase order (as the admin unless `headers` say who) and
        expect it to succeed."""
        path = f"/v1/purchase-orders/{po_id}/{action}"
        response = await self.client.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def buyer(self, user: str = BUYER) -> dict[str, str]:
        """Headers that make a request come from `user` in the procurement role."""
        return self.as_person(user, Role.PROCUREMENT)

    async def approve(self, po_id: str, by: str = BUYER) -> Any:
        """Approve a purchase order as the buyer `by`, with no body: the caller approves."""
        return await self.act(po_id, "approve", headers=self.buyer(by))

    async def sent_order(self, body: dict[str, Any] | None = None) -> str:
        """A purchase order drafted, approved and sent to the supplier."""
        po_id: str = (await self.draft(body))["po_id"]
        await self.approve(po_id)
        await self.act(po_id, "send")
        return po_id

    async def sent_days_ago(self, po_id: str, days: int) -> datetime:
        """Backdate when a purchase order was sent (lead times are measured from it)."""
        sent_at = datetime.now(UTC) - timedelta(days=days)
        async with self.db.transaction() as session:
            po = await session.get(PurchaseOrder, po_id)
            assert po is not None
            po.sent_at = sent_at
            session.add(po)
        return sent_at

    async def po(self, po_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.get_json(f"/v1/purchase-orders/{po_id}")
        return body

    async def events(self, po_id: str) -> list[Envelope]:
        """What the service announced about a purchase order, oldest first."""
        return await self.staged(PURCHASE_ORDERS, po_id)

    async def run(self) -> dict[str, Any]:
        """A replenishment run asked for now: the run and what it made."""
        response = await self.client.post("/v1/replenishment-runs")
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def suggestions_of(self, run: dict[str, Any], limit: int = 50) -> list[dict[str, Any]]:
        """Every suggestion of the run, read page by page as a client does."""
        items: list[dict[str, Any]] = []
        cursor = None
        path = f"/v1/replenishment-runs/{run['run_id']}/suggestions"
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor is not None:
                params["cursor"] = cursor
            page = await self.get_json(path, **params)
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items


@asynccontextmanager
async def procurement_running(
    tmp_path: Path, *, lags: dict[str, int | None] | None = None
) -> AsyncIterator[Procurement]:
    """Procurement started and seeded; its replicas count as caught up, or lag as `lags` says
    (by topic)."""
    settings = Settings(
        state_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'procurement.db'}"
    )
    async with running(create_app(settings), Procurement, lags=lags) as procurement:
        await procurement.seed()
        yield procurement


@pytest_asyncio.fixture
async def procurement(tmp_path: Path) -> AsyncIterator[Procurement]:
    async with procurement_running(tmp_path) as service:
        yield service
