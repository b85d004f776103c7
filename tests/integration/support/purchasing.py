"""Purchase orders made as a buyer makes them, for the tests that need one."""

from __future__ import annotations

from typing import Any

from tests.integration.support import people
from tests.integration.support.polling import eventually
from tests.integration.support.services import ServiceHttp


def draft_purchase_order(procurement: ServiceHttp, sku: str, quantity: int) -> str:
    """A purchase order drafted by the buyer from the SKU's own supplier (made by the first
    order of the SKU, kept by the next ones)."""
    buyer = procurement.as_person(people.BUYER)
    supplier = {"supplier_id": f"SUP-{sku}", "name": "Acme Ceramics", "lead_time_days": 5}
    made = buyer.post("/v1/suppliers", supplier)
    assert made.status_code in (201, 409), made.text  # 409: made for an earlier order
    body = {
        "supplier_id": supplier["supplier_id"],
        "location_id": "WH-EAST",
        "lines": [{"sku": sku, "quantity": quantity, "unit_cost": "7.00"}],
    }

    def drafted() -> dict[str, Any] | None:
        # Answered 503 (retry) until procurement's replicas know the SKU and the location.
        response = buyer.post("/v1/purchase-orders", body)
        return response.json() if response.status_code == 201 else None

    po: dict[str, Any] = eventually(drafted, what="procurement to know the SKU and location")
    assert (po["status"], po["created_by"]) == ("draft", people.BUYER.user)
    po_id: str = po["po_id"]
    return po_id


def advance(caller: ServiceHttp, po_id: str, step: str, body: Any = None) -> dict[str, Any]:
    """Take one step of the purchase order's life as `caller`'s person; the order after it."""
    response = caller.post(f"/v1/purchase-orders/{po_id}/{step}", body)
    assert response.status_code in (200, 201), response.text
    po: dict[str, Any] = response.json()
    return po


def approve_send_confirm(procurement: ServiceHttp, po_id: str, expected_date: str) -> None:
    """Approve the purchase order as the approvers it needs (two different people above the
    threshold, never its drafter: each approver is the caller, no body names them), then send
    and confirm it as the buyer."""
    buyer = procurement.as_person(people.BUYER)
    required = buyer.get(f"/v1/purchase-orders/{po_id}").json()["approvals_required"]
    approvers = people.APPROVERS[:required]
    for approver in approvers:
        approved = advance(procurement.as_person(approver), po_id, "approve")
    assert approved["status"] == "approved", approved
    assert sorted(approved["approvers"]) == [person.user for person in approvers]
    assert advance(buyer, po_id, "send")["status"] == "sent"
    confirmed = advance(buyer, po_id, "confirm", {"expected_date": expected_date})
    assert confirmed["status"] == "confirmed"
