"""A channel's release delay on the real broker and PostgreSQL: a confirmed order waits the delay
before fulfillment sees it, and a cancellation inside the delay gives everything back with no
shipment ever planned."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.integration.conftest import StartService
from tests.integration.support import ServiceProcess, eventually, new_sku, receive_stock

pytestmark = pytest.mark.integration

DELAY_SECONDS = 2


class Stack:
    def __init__(self, start_service: StartService) -> None:
        self.inventory = start_service("inventory")
        self.finance = start_service("finance")
        self.fulfillment = start_service("fulfillment")
        self.order = start_service("order")
        self.sku = new_sku()
        self.channel = f"delayed-{uuid.uuid4().hex[:8]}"
        self._orders = 0

    def open_channel(self, stock: int) -> None:
        receive_stock(self.inventory, sku=self.sku, quantity=stock)
        eventually(
            lambda: self.order.get(f"/v1/replicas/items/{self.sku}").status_code == 200,
            what="the order service to know the SKU",
        )
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

    def place(self, quantity: int) -> str:
        self._orders += 1
        external_id = f"{self.channel}-{self._orders}"
        body = {
            "channel": self.channel,
            "external_id": external_id,
            "customer": {"customer_id": "C-delay", "email": "delay@example.com"},
            "currency": "USD",
            "lines": [{"sku": self.sku, "quantity": quantity, "unit_price": "20.00"}],
            "shipping": {
                "amount": "4.99",
                "address": {
                    "name": "Pat",
                    "line1": "2 Elm St",
                    "city": "Portland",
                    "postal_code": "97201",
                    "country": "US",
                },
            },
            "payment": {"method": "card", "token": "tok_visa"},
        }
        response = self.order.post("/v1/orders", body, headers={"Idempotency-Key": external_id})
        assert response.status_code == 202, response.text
        order_id: str = response.json()["order_id"]
        return order_id

    def view(self, order_id: str) -> dict[str, Any]:
        response = self.order.get(f"/v1/orders/{order_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def status(self, order_id: str) -> str:
        status: str = self.view(order_id)["status"]
        return status

    def wait_status(self, order_id: str, status: str) -> None:
        """Wait for the status; on a timeout, show the order's history and holds."""
        try:
            eventually(lambda: self.status(order_id) == status, what=f"the order {status}")
        except AssertionError as error:
            view = self.view(order_id)
            raise AssertionError(f"{error}; the order: {view}\n{self.order.tail()}") from None

    def history_at(self, order_id: str, status: str) -> datetime | None:
        for entry in self.view(order_id)["history"]:
            if entry["status"] == status:
                return datetime.fromisoformat(entry["at"])
        return None

    def shipments(self, order_id: str) -> list[dict[str, Any]]:
        return _json_list(self.fulfillment, "/v1/shipments", order_id=order_id)

    def available(self) -> int:
        response = self.inventory.get(f"/v1/availability/{self.sku}")
        assert response.status_code == 200, response.text
        available: int = response.json()["available_to_sell"]
        return available


def _json_list(service: ServiceProcess, path: str, **params: Any) -> list[dict[str, Any]]:
    response = service.get(path, **params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_a_confirmed_order_is_released_to_fulfillment_only_after_the_channel_delay(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    stack.open_channel(stock=5)
    order_id = stack.place(quantity=2)

    stack.wait_status(order_id, "confirmed")
    assert stack.shipments(order_id) == []  # fulfillment has not heard of it yet
    assert stack.available() == 3  # but the stock is held for it

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
    stack = Stack(start_service)
    stack.open_channel(stock=5)
    cancelled = stack.place(quantity=2)
    stack.wait_status(cancelled, "confirmed")
    assert stack.available() == 3

    response = stack.order.post(f"/v1/orders/{cancelled}/cancel", {"reason": "customer asked"})
    assert response.status_code == 200, response.text
    assert response.json() == {"order_id": cancelled, "status": "cancelled"}
    eventually(lambda: stack.available() == 5, what="the cancelled order's stock given back")
    eventually(
        lambda: stack.finance.get(f"/v1/payments/{cancelled}").json()["status"] == "voided",
        what="the cancelled order's authorization voided",
    )

    # A later order on the same channel goes all the way to a shipment: by then the cancelled
    # order's delay has long passed, and the release job and fulfillment were working.
    kept = stack.place(quantity=2)
    eventually(lambda: stack.shipments(kept), what="the later order's shipment planned")
    assert stack.status(kept) == "released"
    assert stack.status(cancelled) == "cancelled"
    assert stack.history_at(cancelled, "released") is None
    assert stack.shipments(cancelled) == []
    assert stack.available() == 3
