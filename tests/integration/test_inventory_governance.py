"""Inventory governance on the real broker and PostgreSQL: a blind count whose large variance
waits for another person's approval, then reaches finance's books as shrinkage with the
reconciliation matching; and lots issued first-expiry-first-out by a real shipment, traced to
the order by the recall query."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.integration.support import (
    ServiceHttp,
    Stack,
    StartService,
    eventually,
    journal_entries,
    new_sku,
    order_body,
    people,
)

pytestmark = pytest.mark.integration

SHRINKAGE = "5810"


def post(service: ServiceHttp, who: people.Person, path: str, body: Any = None) -> Any:
    response = service.as_person(who).post(path, body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def reconciled(stack: Stack, sku: str) -> bool:
    """Finance's books agree with inventory on `sku` (other tests' SKUs may be on their way)."""
    body = stack.finance.get("/v1/reconciliation/inventory").json()
    return body["account_balance"] == body["valuation_total"] and sku not in {
        m["sku"] for m in body["mismatches"]
    }


def test_a_large_count_variance_waits_for_approval_then_posts_shrinkage(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 100})
    inventory = stack.inventory

    count = post(
        inventory, people.WAREHOUSE, "/v1/counts", {"location_id": "WH-EAST", "skus": [sku]}
    )
    assert count["lines"][0]["expected"] is None  # blind
    results = {"lines": [{"sku": sku, "counted": 90}]}
    counted = post(inventory, people.WAREHOUSE, f"/v1/counts/{count['count_id']}/results", results)
    (adjustment,) = counted["adjustments"]
    assert (adjustment["status"], adjustment["quantity"]) == ("pending_approval", -10)
    assert stack.availability(sku)["locations"][0]["sellable"] == 100  # not yet

    approve = f"/v1/adjustments/{adjustment['adjustment_id']}/approve"
    refused = inventory.as_person(people.WAREHOUSE).post(approve, None)
    assert refused.status_code == 403
    approved = post(inventory, people.OPERATIONS, approve)
    assert approved["status"] == "applied"
    assert stack.availability(sku)["locations"][0]["sellable"] == 90

    def shrinkage() -> Decimal | None:
        entries = journal_entries(stack.finance, approved["movement_id"])
        lines = [line for entry in entries for line in entry["lines"]]
        debit = sum(Decimal(x["debit"]) for x in lines if x["account"] == SHRINKAGE)
        return debit or None

    assert eventually(shrinkage, what="the loss posted to shrinkage") == Decimal("80.00")
    eventually(lambda: reconciled(stack, sku), what="the reconciliation to match")
    assert stack.finance.get("/v1/trial-balance").json()["balanced"] is True


def receive_lot(inventory: ServiceHttp, sku: str, lot: str, expires_on: str) -> None:
    body = {
        "sku": sku,
        "location_id": "WH-EAST",
        "quantity": 3,
        "unit_cost": "8.00",
        "reference": f"lot {lot}",
        "lot": lot,
        "expires_on": expires_on,
    }
    post(inventory, people.WAREHOUSE, "/v1/receipts", body)


def test_a_shipment_takes_the_first_lot_to_expire_and_the_recall_finds_its_order(
    start_service: StartService,
) -> None:
    stack = Stack(start_service, fulfillment=True)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 0})
    receive_lot(stack.inventory, sku, "LATER", "2031-06-30")
    receive_lot(stack.inventory, sku, "SOONER", "2031-01-31")

    order_id = stack.place(order_body(sku, quantity=2))
    stack.deliver(order_id)

    def recall(lot: str) -> dict[str, Any]:
        response = stack.inventory.get(f"/v1/lots/{lot}", sku=sku)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def shipped_from_sooner() -> dict[str, Any] | None:
        found = recall("SOONER")
        return found if found["orders"] else None

    sooner = eventually(shipped_from_sooner, what="the issue recorded against the sooner lot")
    assert [(o["order_id"], o["quantity"]) for o in sooner["orders"]] == [(order_id, 2)]
    assert sooner["on_hand"] == 1
    assert (recall("LATER")["orders"], recall("LATER")["on_hand"]) == ([], 3)
