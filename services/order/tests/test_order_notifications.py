"""Service tests of what the customer is told: each message recorded with the change it tells
of, handed to the notification port by its job, and read back for customer service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from keel_contracts.events import (
    PaymentDeclined,
    PaymentRefunded,
    PurchaseOrderDelayed,
    ShipmentCreated,
    ShipmentShipped,
    StockReservationFailed,
)
from keel_contracts.roles import Role
from keel_contracts.values import Line, Money
from keel_order.notifications import service as notifications
from keel_order.notifications.port import Outgoing
from order_harness import ORDER, Stack, authorized, reserved

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


class Kept:
    """A notification port that keeps what it is handed."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def send(self, messages: Sequence[Outgoing]) -> None:
        self.sent.extend(messages)


class Refusing:
    async def send(self, messages: Sequence[Outgoing]) -> None:
        raise ConnectionError("the mail relay is down")


async def told(stack: Stack, order_id: str) -> list[dict[str, object]]:
    response = await stack.client.get(f"/v1/orders/{order_id}/notifications")
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def confirmed(stack: Stack, external_id: str = "N-1") -> str:
    order_id = await stack.place({**ORDER, "external_id": external_id})
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(authorized(order_id))
    return order_id


async def test_a_confirmed_and_shipped_order_tells_the_customer_each_step(stack: Stack) -> None:
    order_id = await confirmed(stack)
    await stack.publish(
        ShipmentCreated(
            shipment_id="s-1",
            order_id=order_id,
            location_id="WH-1",
            lines=(Line(sku="MUG-1", quantity=2),),
        )
    )
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

    items = await told(stack, order_id)
    assert [(i["kind"], i["message"]) for i in items] == [
        ("confirmed", "Your order N-1 is confirmed."),
        ("shipped", "Your order N-1 has shipped."),
    ]
    assert all(i["sent_at"] is None for i in items)

    port = Kept()
    await stack.run_job(notifications.send_unsent, notifier=port)
    assert [(m.kind, m.customer_id, m.email) for m in port.sent] == [
        ("confirmed", ORDER["customer"]["customer_id"], ORDER["customer"]["email"]),
        ("shipped", ORDER["customer"]["customer_id"], ORDER["customer"]["email"]),
    ]
    assert all(i["sent_at"] is not None for i in await told(stack, order_id))
    again = Kept()
    await stack.run_job(notifications.send_unsent, notifier=again)
    assert again.sent == []  # each message goes once


async def test_a_sender_that_fails_leaves_the_messages_for_the_next_run(stack: Stack) -> None:
    order_id = await confirmed(stack)
    with pytest.raises(ConnectionError):
        await stack.run_job(notifications.send_unsent, notifier=Refusing())
    assert [i["sent_at"] for i in await told(stack, order_id)] == [None]
    port = Kept()
    await stack.run_job(notifications.send_unsent, notifier=port)
    assert len(port.sent) == 1


async def test_backorders_delays_rejections_and_refunds_are_told(stack: Stack) -> None:
    waiting = await stack.place({**ORDER, "external_id": "W-1"})
    await stack.publish(
        StockReservationFailed(
            order_id=waiting,
            short_lines=(Line(sku="MUG-1", quantity=2),),
            reason="short",
            waiting=True,
            promise_date=date(2030, 1, 10),
        )
    )
    await stack.publish(authorized(waiting))
    assert (await stack.order(waiting))["promised_date"] == "2030-01-10"
    await stack.publish(
        PurchaseOrderDelayed(
            purchase_order_id="PO-1",
            supplier_id="ACME",
            location_id="WH-1",
            lines=(Line(sku="MUG-1", quantity=10),),
            previous_expected_at=datetime(2030, 1, 10, tzinfo=UTC),
            expected_at=datetime(2030, 1, 24, tzinfo=UTC),
        )
    )
    kinds = [(i["kind"], i["message"]) for i in await told(stack, waiting)]
    assert kinds[0] == (
        "backordered",
        "Part of your order W-1 is waiting for stock, expected by 2030-01-10; we will write "
        "again when it ships.",
    )
    assert (await stack.order(waiting))["promised_date"] == "2030-01-24"  # moved with the goods
    assert kinds[-1] == (
        "delayed",
        "Your order W-1 is delayed: our supplier now expects it by 2030-01-24.",
    )

    declined = await stack.place({**ORDER, "external_id": "D-1"})
    await stack.publish(PaymentDeclined(order_id=declined, reason="insufficient funds"))
    assert [i["kind"] for i in await told(stack, declined)] == ["rejected"]

    paid = await confirmed(stack, "R-1")
    await stack.publish(
        PaymentRefunded(
            order_id=paid,
            refund_id="rf-1",
            return_id="rt-1",
            amount=Money(amount=Decimal("12"), currency="USD"),
        )
    )
    assert (await told(stack, paid))[-1]["message"] == "We refunded 12.00 USD for your order R-1."


async def test_customer_service_reads_it_and_the_warehouse_may_not(stack: Stack) -> None:
    order_id = await confirmed(stack)
    path = f"/v1/orders/{order_id}/notifications"
    kim = await stack.client.get(path, headers=stack.as_person("kim", Role.CUSTOMER_SERVICE))
    assert kim.status_code == 200
    assert kim.json()["customer_id"] == ORDER["customer"]["customer_id"]
    wes = await stack.client.get(path, headers=stack.as_person("wes", Role.WAREHOUSE))
    assert wes.status_code == 403
    assert (await stack.client.get("/v1/orders/nope/notifications")).status_code == 404
