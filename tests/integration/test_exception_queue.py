"""Payment holds through the exception queue on the real broker and PostgreSQL: the provider asks
for a review, a person in finance (who owns payment holds) decides in the order service, and the
finance service carries the decision out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.support import (
    Stack,
    StartService,
    eventually,
    new_sku,
    order_body,
    people,
)

pytestmark = pytest.mark.integration


class ReviewStack(Stack):
    """The stack with a SKU of 5 in stock, and the exception queue's steps."""

    def __init__(self, start_service: StartService) -> None:
        super().__init__(start_service)
        self.sku = new_sku()
        self.stock(self.sku, {"WH-EAST": 5})

    def place_for_review(self) -> str:
        return self.place(order_body(self.sku, quantity=2, token="tok_review"))

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
        eventually(lambda: self.available(self.sku) == 3, what="the stock reserved")
        return item

    def resolve(self, order_id: str, hold_id: int, decision: str) -> dict[str, Any]:
        """Decide the hold as finance, its owner; the decider is the caller, named by no body."""
        response = self.order.as_person(people.FINANCE).post(
            f"/v1/orders/{order_id}/holds/{hold_id}/resolve",
            {"decision": decision, "note": "checked with the issuer"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def test_a_released_payment_hold_is_authorized_by_finance_and_the_order_released(
    start_service: StartService,
) -> None:
    stack = ReviewStack(start_service)
    order_id = stack.place_for_review()
    item = stack.held_for_review(order_id)
    assert (item["type"], item["overdue"]) == ("payment_hold", False)
    assert stack.status(order_id) == "on_hold"
    assert stack.payment(order_id)["status"] == "held"

    resolved = stack.resolve(order_id, item["hold_id"], "release")

    assert resolved["status"] == "validating"
    assert resolved["hold"]["resolved_by"] == people.FINANCE.user
    stack.wait_status(order_id, "released")
    payment = stack.payment(order_id)
    assert (payment["status"], payment["reason"]) == (
        "authorized",
        "review approved: checked with the issuer",
    )
    assert stack.queued(order_id) is None
    assert stack.available(stack.sku) == 3


def test_a_rejected_payment_hold_is_declined_by_finance_and_the_stock_given_back(
    start_service: StartService,
) -> None:
    stack = ReviewStack(start_service)
    order_id = stack.place_for_review()
    item = stack.held_for_review(order_id)

    resolved = stack.resolve(order_id, item["hold_id"], "reject")

    assert resolved["status"] == "rejected"
    eventually(lambda: stack.available(stack.sku) == 5, what="the stock given back")
    eventually(lambda: stack.payment(order_id)["status"] == "declined", what="the payment declined")
    assert stack.payment(order_id)["reason"] == "review rejected: checked with the issuer"
    assert stack.status(order_id) == "rejected"
