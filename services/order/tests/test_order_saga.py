"""Service tests: the order API and saga on a real (SQLite) database, with inventory's and
finance's answers fed through FastStream's in-memory broker."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select, update

from keel_contracts.events import (
    PaymentDeclined,
    PaymentHeld,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentShipped,
    StockReservationFailed,
)
from keel_contracts.values import Line
from keel_kit import sealing
from keel_kit.tables import OutboxRecord
from keel_order import saga
from keel_order.models import Order
from order_harness import ORDER, SLOW_CHANNEL, Stack, authorized, reserved

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def test_intake_starts_reservation_payment_and_rules_at_once(stack: Stack) -> None:
    order_id = await stack.place()

    order = await stack.order(order_id)
    assert order["status"] == "validating"
    assert [h["status"] for h in order["history"]] == ["received", "validating"]
    assert order["rule_set_version"]
    sent = await stack.sent(order_id)
    assert [e.type for e in sent] == ["order.placed", "stock.reserve", "payment.authorize_sealed"]
    assert sent[1].payload["backorder"] is True
    assert sent[2].payload["amount"] == {"amount": "30.00", "currency": "USD"}
    # The card token leaves sealed for finance: nowhere in anything the order sends.
    assert all(b"tok_visa" not in e.to_bytes() for e in sent)
    folder = stack.runtime.settings.auth_folder
    assert sealing.unseal(folder, "finance", sent[2].payload["sealed_token"]) == "tok_visa"
    # What returns will need to refund: each line's price and the shipping.
    assert sent[0].payload["lines"] == [
        {"sku": "MUG-1", "quantity": 2, "unit_price": {"amount": "12.50", "currency": "USD"}}
    ]
    assert sent[0].payload["shipping"] == {"amount": "5.00", "currency": "USD"}


async def test_reserved_and_authorized_order_is_confirmed_and_released(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(authorized(order_id))

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
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(PaymentDeclined(order_id=order_id, reason="card declined"))

    order = await stack.order(order_id)
    assert order["status"] == "rejected"
    assert "card declined" in order["history"][-1]["reason"]
    types = [e.type for e in await stack.sent(order_id)]
    assert types[-2:] == ["order.rejected", "stock.release"]


async def test_short_stock_backorders_then_confirms_when_reserved(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.publish(authorized(order_id))
    await stack.publish(
        StockReservationFailed(
            order_id=order_id,
            short_lines=(Line(sku="MUG-1", quantity=2),),
            reason="short",
            waiting=True,
        )
    )
    assert (await stack.order(order_id))["status"] == "backordered"

    await stack.publish(reserved(order_id, ("WH-1", 2)))
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
    await stack.publish(
        StockReservationFailed(
            order_id=order_id, short_lines=(Line(sku="MUG-1", quantity=2),), reason="short"
        )
    )

    order = await stack.order(order_id)
    assert order["status"] == "rejected"
    assert [e.type for e in await stack.sent(order_id)][-2:] == ["order.rejected", "payment.void"]


async def test_payment_review_puts_the_order_on_a_payment_hold(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(PaymentHeld(order_id=order_id, reason="issuer asks for review"))

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
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(authorized(order_id))
    assert (await stack.order(order_id))["status"] == "on_hold"  # a person decides first


async def test_cancel_after_confirmation_releases_stock_and_voids(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(authorized(order_id))

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
    async with stack.db.transaction() as session:
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
    await stack.publish(reserved(order_id, ("WH-1", 1), ("WH-2", 1)))
    await stack.publish(authorized(order_id))
    for sid, location in (("s-1", "WH-1"), ("s-2", "WH-2")):
        await stack.publish(
            ShipmentCreated(
                shipment_id=sid,
                order_id=order_id,
                location_id=location,
                lines=(Line(sku="MUG-1", quantity=1),),
            )
        )

    await stack.publish(shipped(order_id, "s-1", "WH-1"))
    order = await stack.order(order_id)
    assert order["status"] == "partially_shipped"
    assert order["lines"][0]["shipped"] == 1

    await stack.publish(shipped(order_id, "s-2", "WH-2"))
    assert (await stack.order(order_id))["status"] == "shipped"
    capture = (await stack.sent(order_id))[-1]
    assert capture.type == "payment.capture"
    assert capture.payload["amount"] == {"amount": "30.00", "currency": "USD"}
    assert capture.payload["goods"] == {"amount": "25.00", "currency": "USD"}
    assert capture.payload["shipping"] == {"amount": "5.00", "currency": "USD"}

    await stack.publish(ShipmentDelivered(shipment_id="s-1", order_id=order_id))
    assert (await stack.order(order_id))["status"] == "shipped"
    await stack.publish(ShipmentDelivered(shipment_id="s-2", order_id=order_id))
    assert (await stack.order(order_id))["status"] == "delivered"


async def test_a_shipped_order_can_no_longer_be_cancelled(stack: Stack) -> None:
    order_id = await stack.place()
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(authorized(order_id))
    await stack.publish(
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


async def test_a_channel_release_delay_holds_a_confirmed_order_back_until_it_passes(
    stack: Stack,
) -> None:
    assert (await stack.client.post("/v1/channels", json=SLOW_CHANNEL)).status_code == 201
    order_id = await stack.place({**ORDER, "channel": "slow", "external_id": "S-1"})
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(authorized(order_id))

    async def release_due() -> str:
        await stack.run_job(saga.release_delayed)
        status: str = (await stack.order(order_id))["status"]
        return status

    assert await release_due() == "confirmed"
    async with stack.db.transaction() as session:
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1, seconds=1)
        await session.exec(
            update(Order).where(col(Order.order_id) == order_id).values(updated_at=an_hour_ago)
        )
    assert await release_due() == "released"
    assert (await stack.sent(order_id))[-1].type == "order.released"
