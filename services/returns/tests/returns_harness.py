"""The returns service on a real (SQLite) database, with the order service's, fulfillment's and
finance's events fed through FastStream's in-memory broker or applied as one consumer batch: the
`stack` fixture and the steps its service tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI

from keel_contracts import Envelope
from keel_contracts.events import (
    OrderedLine,
    OrderPlaced,
    OrderReleased,
    PaymentRefunded,
    ShipmentShipped,
)
from keel_contracts.roles import Role
from keel_contracts.values import Line, Money
from keel_kit.testing import ServiceUnderTest, running
from keel_returns.main import create_app
from keel_returns.settings import Settings

Priced = tuple[str, int, str | None]  # sku, quantity, unit price


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def paid(refund: dict[str, Any], amount: str, currency: str = "USD") -> PaymentRefunded:
    """Finance's answer to a refund as the return view shows it."""
    return PaymentRefunded(
        order_id=refund["order_id"],
        refund_id=refund["refund_id"],
        return_id=refund["return_id"],
        amount=Money(amount=Decimal(amount), currency=currency),
    )


def shipped(order_id: str, shipment_id: str, *lines: tuple[str, int]) -> ShipmentShipped:
    """Fulfillment's word that `lines` (sku, quantity) left in `shipment_id`."""
    return ShipmentShipped(
        shipment_id=shipment_id,
        order_id=order_id,
        location_id="WH-A",
        lines=tuple(Line(sku=sku, quantity=q) for sku, q in lines),
        carrier="UPS",
        tracking_number=f"1Z-{shipment_id}",
    )


def released(order_id: str, channel: str = "marketplace") -> OrderReleased:
    return OrderReleased(order_id=order_id, channel=channel, allocations=())


def returns_app(tmp_path: Path) -> FastAPI:
    """The returns service on its own SQLite file under `tmp_path`."""
    return create_app(
        Settings(state_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'returns.db'}")
    )


class Stack(ServiceUnderTest):
    """The returns service running, with the steps its tests share."""

    async def order(
        self,
        order_id: str,
        *lines: Priced,
        total: str,
        shipping: str | None = "0.00",
        currency: str = "USD",
    ) -> None:
        """An order placed with these prices (in `currency`), released and shipped whole."""
        await self.publish(
            OrderPlaced(
                order_id=order_id,
                channel="web",
                customer_id="c-1",
                lines=tuple(
                    OrderedLine(
                        sku=sku,
                        quantity=q,
                        unit_price=None if p is None else Money(amount=p, currency=currency),
                    )
                    for sku, q, p in lines
                ),
                total=Money(amount=Decimal(total), currency=currency),
                shipping=None if shipping is None else Money(amount=shipping, currency=currency),
            )
        )
        await self.publish(OrderReleased(order_id=order_id, channel="web", allocations=()))
        await self.publish(
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

    async def authorized(self, order_id: str, sku: str, price: str, currency: str = "USD") -> str:
        """An order of one unit at `price`, shipped, and a return of it authorized."""
        await self.order(order_id, (sku, 1, price), total=price, currency=currency)
        return await self.authorize(order_id, (sku, 1), reason="broken")

    async def returned(
        self, order_id: str, sku: str, price: str, grade: str = "A", currency: str = "USD"
    ) -> str:
        """An order of one unit at `price`, shipped, returned, received and graded: its refund
        is requested (or waits for approval above the threshold)."""
        return_id = await self.authorized(order_id, sku, price, currency)
        received = await self.receive(return_id, (sku, 1))
        assert received.status_code == 200, received.text
        inspected = await self.inspect(return_id, (sku, 1, grade))
        assert inspected.status_code == 200, inspected.text
        return return_id

    async def approve(
        self,
        refund_id: str,
        body: dict[str, Any] | None = None,
        *,
        by: str = "fiona",
        role: Role = Role.FINANCE,
        key: str | None = None,
    ) -> httpx.Response:
        """Approve the refund as `by`, a person in `role` (a finance approver by default)."""
        headers = self.as_person(by, role) | ({"Idempotency-Key": key} if key else {})
        return await self.client.post(
            f"/v1/refunds/{refund_id}/approve", json=body, headers=headers
        )

    async def view(self, return_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.get_json(f"/v1/returns/{return_id}")
        return body

    async def listed(self, path: str, **params: Any) -> dict[str, Any]:
        """One page of a list (`/v1/returns`, `/v1/refunds`) with these filters."""
        response = await self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def every_page(self, path: str, id_field: str) -> list[str]:
        """The ids a list shows, page after page of two, following its cursor to the end."""
        seen: list[str] = []
        cursor = None
        while True:
            page = await self.listed(path, limit=2, **({"cursor": cursor} if cursor else {}))
            seen += [item[id_field] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    async def sent(self, *types: str) -> list[Envelope]:
        """What returns staged on returns.return.v1 (of these types, if given), oldest first."""
        envelopes = await self.staged("returns.return.v1")
        return [e for e in envelopes if not types or e.type in types]


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running(returns_app(tmp_path), Stack) as stack:
        yield stack
