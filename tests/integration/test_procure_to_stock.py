"""Procure to stock on the real broker and PostgreSQL: a purchase order approved, sent,
confirmed and received in procurement becomes on-order, then sellable stock in inventory, serves
the backordered orders oldest first, and is booked against goods received not invoiced."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.integration.conftest import StartService
from tests.integration.support import ServiceProcess, eventually, new_sku
from tests.integration.test_order_to_cash import Stack, order_body

pytestmark = pytest.mark.integration

GOODS_RECEIVED_NOT_INVOICED = "2100"


def draft_purchase_order(procurement: ServiceProcess, sku: str, quantity: int) -> str:
    supplier = {"supplier_id": f"SUP-{sku}", "name": "Acme Ceramics", "lead_time_days": 5}
    assert procurement.post("/v1/suppliers", supplier).status_code == 201
    body = {
        "supplier_id": supplier["supplier_id"],
        "location_id": "WH-EAST",
        "lines": [{"sku": sku, "quantity": quantity, "unit_cost": "7.00"}],
    }

    def drafted() -> dict[str, Any] | None:
        # Refused (422) until procurement's replicas know the SKU and the location.
        response = procurement.post("/v1/purchase-orders", body)
        return response.json() if response.status_code == 201 else None

    po: dict[str, Any] = eventually(drafted, what="procurement to know the SKU and location")
    assert po["status"] == "draft"
    po_id: str = po["po_id"]
    return po_id


def advance(procurement: ServiceProcess, po_id: str, step: str, body: Any = None) -> str:
    response = procurement.post(f"/v1/purchase-orders/{po_id}/{step}", body)
    assert response.status_code in (200, 201), response.text
    status: str = response.json().get("status", "")
    return status


def on_order(stack: Stack, sku: str) -> tuple[int, str | None]:
    [east] = [x for x in stack.availability(sku)["locations"] if x["location_id"] == "WH-EAST"]
    return east["on_order"], east["next_expected_date"]


def test_a_received_purchase_order_serves_the_backorders_oldest_first(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    procurement = start_service("procurement")
    sku = new_sku()
    stack.stock(sku, **{"WH-EAST": 1})
    first = stack.place(order_body("web", sku))
    eventually(lambda: stack.status(first) == "released", what="the first order released")
    waiting = []
    for _ in range(3):
        order_id = stack.place(order_body("web", sku))
        eventually(
            lambda oid=order_id: stack.status(oid) == "backordered",  # type: ignore[misc]
            what="a backorder",
        )
        waiting.append(order_id)

    po_id = draft_purchase_order(procurement, sku, quantity=2)
    assert advance(procurement, po_id, "approve", {"approver": "kim"}) == "approved"
    assert advance(procurement, po_id, "send") == "sent"
    assert advance(procurement, po_id, "confirm", {"expected_date": "2030-01-15"}) == "confirmed"
    eventually(
        lambda: on_order(stack, sku) == (2, "2030-01-15"), what="inventory to show it on order"
    )
    assert stack.availability(sku)["available_to_sell"] == 0  # on order is not sellable

    receipt = procurement.post(
        f"/v1/purchase-orders/{po_id}/receipts", {"lines": [{"sku": sku, "quantity": 2}]}
    )
    assert receipt.status_code == 201, receipt.text

    eventually(
        lambda: [stack.status(o) for o in waiting[:2]] == ["released", "released"],
        what="the two oldest backorders released by the receipt",
    )
    assert stack.status(waiting[2]) == "backordered"
    assert on_order(stack, sku)[0] == 0

    def grni_credit() -> Decimal | None:
        accounts = stack.finance.get("/v1/trial-balance").json()["accounts"]
        [grni] = [a for a in accounts if a["account"] == GOODS_RECEIVED_NOT_INVOICED] or [None]
        return Decimal(grni["credits"]) if grni else None

    assert eventually(grni_credit, what="the receipt booked against GRNI") == Decimal("14.00")
    assert stack.finance.get("/v1/trial-balance").json()["balanced"] is True
