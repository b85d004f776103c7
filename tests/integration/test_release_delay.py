"""A channel's release delay on the real broker and PostgreSQL: a confirmed order waits the delay
before fulfillment sees it, and a cancellation inside the delay gives everything back with no
shipment ever planned."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from tests.integration.support import Stack, StartService, eventually, new_sku, order_body

pytestmark = pytest.mark.integration

DELAY_SECONDS = 2


class DelayedStack(Stack):
    """The stack with fulfillment, a SKU and a sales channel of its own with a release delay."""

    def __init__(self, start_service: StartService) -> None:
        super().__init__(start_service, fulfillment=True)
        self.sku = new_sku()
        self.channel = f"delayed-{uuid.uuid4().hex[:8]}"

    def open_channel(self, stock: int) -> None:
        self.stock(self.sku, {"WH-EAST": stock})
        response = self.order.post(
            "/v1/channels",
            {
                "channel_id": self.channel,
                "name": "Delayed",
                "market_country": "US",
                "backorder_policy": "reject",
                "release_delay_seconds": DELAY_SECONDS,
            },
        )
        assert response.status_code == 201, response.text
        assert response.json()["release_delay_seconds"] == DELAY_SECONDS

    def place_on_channel(self, quantity: int) -> str:
        return self.place(order_body(self.sku, channel=self.channel, quantity=quantity))

    def history_at(self, order_id: str, status: str) -> datetime | None:
        for entry in self.view(order_id)["history"]:
            if entry["status"] == status:
                return datetime.fromisoformat(entry["at"])
        return None


def test_a_confirmed_order_is_released_to_fulfillment_only_after_the_channel_delay(
    start_service: StartService,
) -> None:
    stack = DelayedStack(start_service)
    stack.open_channel(stock=5)
    order_id = stack.place_on_channel(quantity=2)

    stack.wait_status(order_id, "confirmed")
    assert stack.shipments(order_id) == []  # fulfillment has not heard of it yet
    assert stack.available(stack.sku) == 3  # but the stock is held for it

    stack.wait_status(order_id, "released")
    confirmed_at = stack.history_at(order_id, "confirmed")
    released_at = stack.history_at(order_id, "released")
    assert confirmed_at is not None
    assert released_at is not None
    # The release job compares with the order's updated_at, written microseconds before the
    # history's timestamp; the tolerance covers that gap, not a missed delay.
    assert (released_at - confirmed_at).total_seconds() >= DELAY_SECONDS - 0.05

    (shipment,) = eventually(lambda: stack.shipments(order_id), what="a shipment planned")
    assert shipment["location_id"] == "WH-EAST"
    assert [(line["sku"], line["quantity"]) for line in shipment["lines"]] == [(stack.sku, 2)]


def test_cancelling_during_the_release_delay_gives_the_stock_back_without_a_shipment(
    start_service: StartService,
) -> None:
    stack = DelayedStack(start_service)
    stack.open_channel(stock=5)
    cancelled = stack.place_on_channel(quantity=2)
    stack.wait_status(cancelled, "confirmed")
    assert stack.available(stack.sku) == 3

    assert stack.cancel(cancelled) == {"order_id": cancelled, "status": "cancelled"}
    eventually(
        lambda: stack.available(stack.sku) == 5, what="the cancelled order's stock given back"
    )
    eventually(
        lambda: stack.payment(cancelled)["status"] == "voided",
        what="the cancelled order's authorization voided",
    )

    # A later order on the same channel goes all the way to a shipment: by then the cancelled
    # order's delay has long passed, and the release job and fulfillment were working.
    kept = stack.place_on_channel(quantity=2)
    eventually(lambda: stack.shipments(kept), what="the later order's shipment planned")
    assert stack.status(kept) == "released"
    assert stack.status(cancelled) == "cancelled"
    assert stack.history_at(cancelled, "released") is None
    assert stack.shipments(cancelled) == []
    assert stack.available(stack.sku) == 3
