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

    async def draft(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post("/v1/purchase-orders", json=body or ORDER)
        assert response.status_code == 201, response.text
        po: dict[str, Any] = response.json()
        return po

    async def act(self, po_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
        """POST an action on a purchase order and expect it to succeed."""
        response = await self.client.post(f"/v1/purchase-orders/{po_id}/{action}", json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def sent_order(self, body: dict[str, Any] | None = None) -> str:
        """A purchase order drafted, approved and sent to the supplier."""
        po_id: str = (await self.draft(body))["po_id"]
        await self.act(po_id, "approve", {"approver": "ann"})
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


@asynccontextmanager
async def procurement_running(
    tmp_path: Path, *, lags: dict[str, int | None] | None = None
) -> AsyncIterator[Procurement]:
    """Procurement started and seeded; its replicas count as caught up, or lag as `lags` says
    (by topic)."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'procurement.db'}")
    async with running(create_app(settings), Procurement, lags=lags) as procurement:
        await procurement.seed()
        yield procurement


@pytest_asyncio.fixture
async def procurement(tmp_path: Path) -> AsyncIterator[Procurement]:
    async with procurement_running(tmp_path) as service:
        yield service
