"""Payment holds through the exception queue on the real broker and PostgreSQL: the provider asks
for a review, a person decides in the order service, finance carries the decision out."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.conftest import StartService
from tests.integration.support import eventually, new_sku, receive_stock

pytestmark = pytest.mark.integration


class Stack:
    def __init__(self, start_service: StartService) -> None:
        self.inventory = start_service("inventory")
        self.finance = start_service("finance")
        self.order = start_service("order")
        self.sku = new_sku()
        receive_stock(self.inventory, sku=self.sku, quantity=5)
        eventually(
            lambda: self.order.get(f"/v1/replicas/items/{self.sku}").status_code == 200,
            what="the order service to know the SKU",
        )

    def place_for_review(self) -> str:
        external_id = f"review-{uuid.uuid4().hex[:8]}"
        body = {
            "channel": "web",
            "external_id": external_id,
            "customer": {"customer_id": "C-review", "email": "review@example.com"},
            "currency": "USD",
            "lines": [{"sku": self.sku, "quantity": 2, "unit_price": "20.00"}],
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
            "payment": {"method": "card", "token": "tok_review"},
        }
        response = self.order.post("/v1/orders", body, headers={"Idempotency-Key": external_id})
        assert response.status_code == 202, response.text
        order_id: str = response.json()["order_id"]
        return order_id

    def status(self, order_id: str) -> str:
        status: str = self.order.get(f"/v1/orders/{order_id}").json()["status"]
        return status

    def queued(self, order_id: str) -> dict[str, Any] | None:
        """The order's open exception in finance's queue."""
        page = self.order.get("/v1/exceptions", owner_role="finance", limit=200).json()
        for item in page["items"]:
            if item["order_id"] == order_id:
                found: dict[str, Any] = item
                return found
        return None

    def held_for_review(self, order_id: str) -> dict[str, Any]:
        """Wait for the payment hold and for the stock held for the order; the hold."""
        item = eventually(lambda: self.queued(order_id), what="the payment hold queued")
        eventually(lambda: self.available() == 3, what="the stock reserved")
        return item

    def resolve(self, order_id: str, hold_id: int, decision: str) -> dict[str, Any]:
        response = self.order.post(
            f"/v1/orders/{order_id}/holds/{hold_id}/resolve",
            {"decision": decision, "note": "checked with the issuer", "resolved_by": "kim"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def payment(self, order_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.finance.get(f"/v1/payments/{order_id}").json()
        return body

    def available(self) -> int:
        available: int = self.inventory.get(f"/v1/availability/{self.sku}").json()[
            "available_to_sell"
        ]
        return available


def test_a_released_payment_hold_is_authorized_by_finance_and_the_order_released(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    order_id = stack.place_for_review()
    item = stack.held_for_review(order_id)
    assert (item["type"], item["overdue"]) == ("payment_hold", False)
    assert stack.status(order_id) == "on_hold"
    assert stack.payment(order_id)["status"] == "held"

    resolved = stack.resolve(order_id, item["hold_id"], "release")

    assert resolved["status"] == "validating"
    eventually(lambda: stack.status(order_id) == "released", what="the order released")
    payment = stack.payment(order_id)
    assert (payment["status"], payment["reason"]) == (
        "authorized",
        "review approved: checked with the issuer",
    )
    assert stack.queued(order_id) is None
    assert stack.available() == 3


def test_a_rejected_payment_hold_is_declined_by_finance_and_the_stock_given_back(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    order_id = stack.place_for_review()
    item = stack.held_for_review(order_id)

    resolved = stack.resolve(order_id, item["hold_id"], "reject")

    assert resolved["status"] == "rejected"
    eventually(lambda: stack.available() == 5, what="the stock given back")
    eventually(lambda: stack.payment(order_id)["status"] == "declined", what="the payment declined")
    assert stack.payment(order_id)["reason"] == "review rejected: checked with the issuer"
    assert stack.status(order_id) == "rejected"
