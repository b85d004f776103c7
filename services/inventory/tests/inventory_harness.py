"""The inventory service under test (real SQLite database, FastStream's in-memory broker) and
the steps its tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest_asyncio

from keel_contracts import Envelope
from keel_contracts.commands import ReserveStock
from keel_contracts.roles import Role
from keel_contracts.values import Line
from keel_inventory import reservations
from keel_inventory.main import create_app
from keel_inventory.settings import Settings
from keel_kit.testing import ServiceUnderTest, check_findings, running

ANSWERS = "inventory.reservation.v1"


class Inventory(ServiceUnderTest):
    async def act(
        self, path: str, by: tuple[str, Role], body: Any = None, expect: int = 200
    ) -> dict[str, Any]:
        """POST `body` to `path` as a person (user, role), expecting `expect`; the answer."""
        response = await self.client.post(path, json=body, headers=self.as_person(*by))
        assert response.status_code == expect, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def answers(self) -> list[Envelope]:
        """Everything inventory said on the reservation topic, oldest first."""
        return await self.staged(ANSWERS)

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

    async def expire_due(self, *, at: datetime | None = None, limit: int | None = None) -> int:
        """Expire held reservations as if it were `at` (now, if not given), at most `limit`
        (the expiry job's batch, if not given); return how many expired."""
        context = self.context if at is None else replace(self.context, clock=lambda: at)
        async with context.unit_of_work() as uow:
            limit = context.expiry_batch_size if limit is None else limit
            return await reservations.expire_due(uow=uow, limit=limit)

    async def assert_invariants_hold(self) -> None:
        body = (await self.client.get("/v1/invariants")).json()
        assert body == {
            "ledger_matches_balances": True,
            "mismatched_balances": 0,
            "oversold_locations": 0,
            "oversold_units": 0,
        }
        assert check_findings((await self.client.get("/v1/checks")).json()) == {}

    async def register_items_and_locations(self) -> None:
        """MUG and PLATE, warehouses WH-A and WH-B: what every test starts from."""
        for sku in ("MUG", "PLATE"):
            item = {"sku": sku, "name": sku.title(), "unit_cost": "1.00", "currency": "USD"}
            assert (await self.client.post("/v1/items", json=item)).status_code == 201
        for location_id in ("WH-A", "WH-B"):
            location = {
                "location_id": location_id,
                "name": location_id,
                "kind": "warehouse",
                "country": "US",
                "postal_code": "10001",
            }
            assert (await self.client.post("/v1/locations", json=location)).status_code == 201


@pytest_asyncio.fixture
async def inventory(tmp_path: Path) -> AsyncIterator[Inventory]:
    settings = Settings(
        state_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'inventory.db'}"
    )
    async with running(create_app(settings), Inventory) as inventory:
        await inventory.register_items_and_locations()
        yield inventory


def reserve(order_id: str, *lines: tuple[str, int], backorder: bool = False) -> ReserveStock:
    return ReserveStock(
        order_id=order_id,
        channel="web",
        lines=tuple(Line(sku=sku, quantity=n) for sku, n in lines),
        backorder=backorder,
    )
