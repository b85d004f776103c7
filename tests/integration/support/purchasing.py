"""Purchase orders made as a buyer makes them, for the tests that need one."""

from __future__ import annotations

from typing import Any

from tests.integration.support import people
from tests.integration.support.polling import eventually
from tests.integration.support.services import ServiceHttp


def draft_purchase_order(procurement: ServiceHttp, sku: str, quantity: int) -> str:
    """A new supplier and a purchase order drafted from it, both by the buyer."""
    buyer = procurement.as_person(people.BUYER)
    supplier = {"supplier_id": f"SUP-{sku}", "name": "Acme Ceramics", "lead_time_days": 5}
    assert buyer.post("/v1/suppliers", supplier).status_code == 201
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
