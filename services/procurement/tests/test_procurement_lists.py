"""Service tests of the lists procurement works from: purchase orders by status (drafts waiting
for their approvals first), and suppliers with their scorecards."""

from __future__ import annotations

from typing import Any

import pytest

from keel_contracts.roles import Role
from procurement_harness import LARGE, SUPPLIER, Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def listed(procurement: Procurement, path: str, **params: Any) -> dict[str, Any]:
    response = await procurement.client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_drafts_waiting_for_approval_show_who_approved_so_far(
    procurement: Procurement,
) -> None:
    small = (await procurement.draft())["po_id"]
    large = (await procurement.draft(LARGE))["po_id"]
    await procurement.approve(large, by="ann")  # one of the two it needs
    sent = await procurement.sent_order()

    drafts = await listed(procurement, "/v1/purchase-orders")
    assert [(p["po_id"], p["approvals_required"], p["approvers"]) for p in drafts["items"]] == [
        (small, 1, []),
        (large, 2, ["ann"]),
    ]
    assert [
        p["po_id"]
        for p in (await listed(procurement, "/v1/purchase-orders", status="sent"))["items"]
    ] == [sent]


async def test_purchase_orders_page_with_their_cursor(procurement: Procurement) -> None:
    drafted = [(await procurement.draft())["po_id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        page = await listed(
            procurement, "/v1/purchase-orders", limit=2, **({"cursor": cursor} if cursor else {})
        )
        seen += [p["po_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == drafted


async def test_suppliers_are_listed_with_their_scorecards(procurement: Procurement) -> None:
    second = {**SUPPLIER, "supplier_id": "BOLT", "name": "Bolt & Co"}
    assert (await procurement.client.post("/v1/suppliers", json=second)).status_code == 201
    page = await listed(procurement, "/v1/suppliers")
    assert [s["supplier_id"] for s in page["items"]] == ["ACME", "BOLT"]
    assert page["items"][0]["orders_measured"] == 0
    assert page["items"][0]["fill_rate"] is None
    assert (await listed(procurement, "/v1/suppliers", limit=1))["next_cursor"] == "ACME"


@pytest.mark.parametrize("params", [{"status": "lost"}, {"limit": 0}])
async def test_a_bad_filter_is_a_422(procurement: Procurement, params: dict[str, Any]) -> None:
    response = await procurement.client.get("/v1/purchase-orders", params=params)
    assert response.status_code == 422


async def test_customer_service_may_not_read_purchase_orders(procurement: Procurement) -> None:
    kim = procurement.as_person("kim", Role.CUSTOMER_SERVICE)
    for path in ("/v1/purchase-orders", "/v1/suppliers"):
        assert (await procurement.client.get(path, headers=kim)).status_code == 403


async def test_the_warehouse_sees_what_it_may_still_receive_at_its_location(
    procurement: Procurement,
) -> None:
    await procurement.draft()  # a draft: nothing to receive yet
    sent = await procurement.sent_order()
    warehouse = procurement.as_person("wes", Role.WAREHOUSE)
    response = await procurement.client.get(
        "/v1/purchase-orders",
        params={"receivable": "true", "location_id": "WH-EAST"},
        headers=warehouse,
    )
    assert response.status_code == 200, response.text
    assert [p["po_id"] for p in response.json()["items"]] == [sent]
    elsewhere = await listed(
        procurement, "/v1/purchase-orders", receivable="true", location_id="WH-WEST"
    )
    assert elsewhere["items"] == []
    both = await procurement.client.get(
        "/v1/purchase-orders", params={"receivable": "true", "status": "sent"}
    )
    assert both.status_code == 422
    assert "status" in both.text
