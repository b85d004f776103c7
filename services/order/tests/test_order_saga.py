"""Service tests: the order API and saga on a real (SQLite) database, with inventory's and
finance's answers fed through FastStream's in-memory broker."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from faststream.kafka import TestKafkaBroker
from sqlmodel import col, select

from keel_contracts import Envelope, Message, topic_for_message
from keel_contracts.events import (
    Allocation,
    ItemRegistered,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentHeld,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentShipped,
    StockReservationFailed,
    StockReserved,
)
from keel_contracts.values import Line, Money
from keel_kit.runtime import ServiceRuntime
from keel_kit.tables import OutboxRecord
from keel_order.main import create_app
from keel_order.settings import Settings

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

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

    async def place(self, body: dict[str, Any] | None = None, key: str = "k-1") -> str:
        response = await self.client.post(
            "/v1/orders", json=body or ORDER, headers={"Idempotency-Key": key}
        )
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


async def test_intake_starts_reservation_payment_and_rules_at_once(stack: Stack) -> None:
    order_id = await stack.place()

    order = await stack.order(order_id)
    assert order["status"] == "validating"
    assert [h["status"] for h in order["history"]] == ["received", "validating"]
    assert order["rule_set_version"]
    sent = await stack.sent(order_id)
    assert [e.type for e in sent] == ["order.placed", "stock.reserve", "payment.authorize"]
    assert sent[1].payload["backorder"] is True
    assert sent[2].payload["amount"] == {"amount": "30.00", "currency": "USD"}


async def test_reserved_and_authorized_order_is_confirmed_and_released(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.answer(reserved(order_id, ("WH-1", 2)))
    await stack.answer(authorized(order_id))

    order = await stack.order(order_id)
    assert order["status"] == "released"
    assert order["lines"] == [
        {"sku": "MUG-1", "quantity": 2, "unit_price": "12.50", "reserved": 2, "shipped": 0}
    ]
    released = (await stack.sent(order_id))[-1]
    assert released.type == "order.released"
    assert released.payload["allocations"] == [
        {"location_id": "WH-1", "sku": "MUG-1", "quantity": 2}
    ]


async def test_declined_card_rejects_and_releases_the_stock(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.answer(reserved(order_id, ("WH-1", 2)))
    await stack.answer(PaymentDeclined(order_id=order_id, reason="card declined"))

    order = await stack.order(order_id)
    assert order["status"] == "rejected"
    assert "card declined" in order["history"][-1]["reason"]
    types = [e.type for e in await stack.sent(order_id)]
    assert types[-2:] == ["order.rejected", "stock.release"]


async def test_short_stock_backorders_then_confirms_when_reserved(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.answer(authorized(order_id))
    await stack.answer(
        StockReservationFailed(
            order_id=order_id,
            short_lines=(Line(sku="MUG-1", quantity=2),),
            reason="short",
            waiting=True,
        )
    )
    assert (await stack.order(order_id))["status"] == "backordered"

    await stack.answer(reserved(order_id, ("WH-1", 2)))
    assert (await stack.order(order_id))["status"] == "released"


async def test_short_stock_on_a_reject_channel_rejects_and_voids(stack: Stack) -> None:
    await stack.client.post(
        "/v1/channels",
        json={
            "channel_id": "strict",
            "name": "Strict",
            "market_country": "US",
            "backorder_policy": "reject",
        },
    )
    order_id = await stack.place({**ORDER, "channel": "strict"})
    assert (await stack.sent(order_id))[1].payload["backorder"] is False
    await stack.answer(
        StockReservationFailed(
            order_id=order_id, short_lines=(Line(sku="MUG-1", quantity=2),), reason="short"
        )
    )

    order = await stack.order(order_id)
    assert order["status"] == "rejected"
    assert [e.type for e in await stack.sent(order_id)][-2:] == ["order.rejected", "payment.void"]


async def test_payment_review_puts_the_order_on_a_payment_hold(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.answer(reserved(order_id, ("WH-1", 2)))
    await stack.answer(PaymentHeld(order_id=order_id, reason="issuer asks for review"))

    order = await stack.order(order_id)
    assert order["status"] == "on_hold"
    (hold,) = order["holds"]
    assert (hold["type"], hold["owner_role"]) == ("payment_hold", "finance")
    assert hold["resolved_at"] is None


async def test_risky_order_is_held_for_fraud_review_with_its_reason(stack: Stack) -> None:
    body = copy.deepcopy(ORDER)
    body["lines"][0]["unit_price"] = "900.00"
    body["shipping"]["address"]["country"] = "FR"
    order_id = await stack.place(body)

    order = await stack.order(order_id)
    assert order["status"] == "on_hold"
    (hold,) = order["holds"]
    assert hold["type"] == "fraud_review"
    assert "ships to FR" in hold["reason"]
    assert hold["rule_set_version"] == order["rule_set_version"]
    await stack.answer(reserved(order_id, ("WH-1", 2)))
    await stack.answer(authorized(order_id))
    assert (await stack.order(order_id))["status"] == "on_hold"  # a person decides first


async def test_cancel_after_confirmation_releases_stock_and_voids(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.answer(reserved(order_id, ("WH-1", 2)))
    await stack.answer(authorized(order_id))

    response = await stack.client.post(f"/v1/orders/{order_id}/cancel", json={"reason": "asked"})
    assert response.json() == {"order_id": order_id, "status": "cancelled"}
    assert [e.type for e in await stack.sent(order_id)][-3:] == [
        "order.cancelled",
        "stock.release",
        "payment.void",
    ]
    again = await stack.client.post(f"/v1/orders/{order_id}/cancel")
    assert again.status_code == 409


async def test_same_key_and_body_returns_the_same_order(stack: Stack) -> None:
    first = await stack.place(key="retry-1")
    second = await stack.place(key="retry-1")
    assert first == second
    other = await stack.client.post(
        "/v1/orders", json={**ORDER, "external_id": "W-2"}, headers={"Idempotency-Key": "retry-1"}
    )
    assert other.status_code == 422


async def test_same_external_id_under_another_key_is_a_conflict(stack: Stack) -> None:
    await stack.place(key="a")
    response = await stack.client.post("/v1/orders", json=ORDER, headers={"Idempotency-Key": "b"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "external_id"


def _with(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(ORDER)
    target = body
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]  # type: ignore[index]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_with("channel", "nowhere"), "channel"),
        (_with("lines.0.sku", "NOPE"), "lines.0.sku"),
        (_with("lines.0.quantity", 0), "lines.0.quantity"),
        (_with("lines.0.quantity", -1), "lines.0.quantity"),
        (_with("lines.0.quantity", 10**9), "lines.0.quantity"),
        (_with("lines.0.unit_price", "12.5.0"), "lines.0.unit_price"),
        (_with("lines", []), "lines"),
        (_with("shipping.address", KeyError), "shipping.address"),
        (_with("currency", "dollars"), "currency"),
    ],
)
async def test_bad_order_is_a_422_naming_the_field_and_creates_nothing(
    stack: Stack, body: dict[str, Any], field: str
) -> None:
    response = await stack.client.post("/v1/orders", json=body, headers={"Idempotency-Key": "x"})
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    async with stack.runtime.db.transaction() as session:
        assert (await session.exec(select(OutboxRecord))).all() == []


async def test_body_that_is_not_an_object_is_a_422(stack: Stack) -> None:
    response = await stack.client.post("/v1/orders", json=[1, 2], headers={"Idempotency-Key": "x"})
    assert response.status_code == 422


async def test_missing_idempotency_key_is_a_422(stack: Stack) -> None:
    response = await stack.client.post("/v1/orders", json=ORDER)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_unknown_order_is_a_404(stack: Stack) -> None:
    assert (await stack.client.get("/v1/orders/nope")).status_code == 404
    assert (await stack.client.post("/v1/orders/nope/cancel")).status_code == 404


async def test_fresh_stack_has_the_three_demo_channels(stack: Stack) -> None:
    channels = (await stack.client.get("/v1/channels")).json()
    assert {c["channel_id"] for c in channels} == {"web", "marketplace-a", "marketplace-b"}
    duplicate = await stack.client.post(
        "/v1/channels",
        json={
            "channel_id": "web",
            "name": "Web",
            "market_country": "US",
            "backorder_policy": "backorder",
        },
    )
    assert duplicate.status_code == 409


async def test_shipments_move_the_order_to_shipped_then_delivered(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.answer(reserved(order_id, ("WH-1", 1), ("WH-2", 1)))
    await stack.answer(authorized(order_id))
    for sid, location in (("s-1", "WH-1"), ("s-2", "WH-2")):
        await stack.answer(
            ShipmentCreated(
                shipment_id=sid,
                order_id=order_id,
                location_id=location,
                lines=(Line(sku="MUG-1", quantity=1),),
            )
        )

    await stack.answer(shipped(order_id, "s-1", "WH-1"))
    order = await stack.order(order_id)
    assert order["status"] == "partially_shipped"
    assert order["lines"][0]["shipped"] == 1

    await stack.answer(shipped(order_id, "s-2", "WH-2"))
    assert (await stack.order(order_id))["status"] == "shipped"
    capture = (await stack.sent(order_id))[-1]
    assert capture.type == "payment.capture"
    assert capture.payload["amount"] == {"amount": "30.00", "currency": "USD"}
    assert capture.payload["goods"] == {"amount": "25.00", "currency": "USD"}
    assert capture.payload["shipping"] == {"amount": "5.00", "currency": "USD"}

    await stack.answer(ShipmentDelivered(shipment_id="s-1", order_id=order_id))
    assert (await stack.order(order_id))["status"] == "shipped"
    await stack.answer(ShipmentDelivered(shipment_id="s-2", order_id=order_id))
    assert (await stack.order(order_id))["status"] == "delivered"


async def test_a_shipped_order_can_no_longer_be_cancelled(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.answer(reserved(order_id, ("WH-1", 2)))
    await stack.answer(authorized(order_id))
    await stack.answer(
        ShipmentShipped(
            shipment_id="s-1",
            order_id=order_id,
            location_id="WH-1",
            lines=(Line(sku="MUG-1", quantity=2),),
            carrier="UPS",
            tracking_number="1Z",
        )
    )
    response = await stack.client.post(f"/v1/orders/{order_id}/cancel")
    assert response.status_code == 409


def shipped(order_id: str, shipment_id: str, location: str) -> ShipmentShipped:
    return ShipmentShipped(
        shipment_id=shipment_id,
        order_id=order_id,
        location_id=location,
        lines=(Line(sku="MUG-1", quantity=1),),
        carrier="UPS",
        tracking_number=f"1Z-{shipment_id}",
    )
