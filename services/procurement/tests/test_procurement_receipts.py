"""Service tests: receiving against a purchase order, within its over- and under-tolerances."""

from __future__ import annotations

import pytest

from procurement_harness import Procurement, order_with

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def test_receipt_beyond_the_tolerance_is_refused_and_books_nothing(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    # MUG-1 may reach 105 (100 + 5%), PLATE-2 42 (40 + 5%): the second line is one too many.
    lines = [{"sku": "MUG-1", "quantity": 105}, {"sku": "PLATE-2", "quantity": 43}]

    refused = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/receipts", json={"lines": lines}
    )

    assert refused.status_code == 422
    problem = refused.json()
    assert problem["errors"] == [{"field": "lines.1.quantity", "message": problem["detail"]}]
    assert "PLATE-2" in problem["detail"]
    assert "at most 42" in problem["detail"]
    po = await procurement.po(po_id)
    assert po["status"] == "sent"
    assert [line["received_quantity"] for line in po["lines"]] == [0, 0]
    assert "purchase_order.received" not in [e.type for e in await procurement.events(po_id)]


async def test_receipt_within_the_tolerance_is_booked(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()
    lines = [{"sku": "MUG-1", "quantity": 105}, {"sku": "PLATE-2", "quantity": 42}]

    receipt = await procurement.act(po_id, "receipts", {"lines": lines})

    po = receipt["purchase_order"]
    assert po["status"] == "received"
    assert [line["received_quantity"] for line in po["lines"]] == [105, 42]


async def test_receipt_within_the_under_tolerance_completes_the_order(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    lines = [{"sku": "MUG-1", "quantity": 95}, {"sku": "PLATE-2", "quantity": 38}]

    receipt = await procurement.act(po_id, "receipts", {"lines": lines})

    assert receipt["purchase_order"]["status"] == "received"  # 95 of 100, 38 of 40: filled
    last = (await procurement.events(po_id))[-1]
    assert (last.type, last.payload["complete"]) == ("purchase_order.received", True)


async def test_receipt_below_the_under_tolerance_leaves_the_order_open(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    lines = [{"sku": "MUG-1", "quantity": 94}, {"sku": "PLATE-2", "quantity": 40}]

    receipt = await procurement.act(po_id, "receipts", {"lines": lines})

    assert receipt["purchase_order"]["status"] == "partially_received"
    last = (await procurement.events(po_id))[-1]
    assert last.payload["complete"] is False


async def test_receipts_add_up_against_the_tolerance(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()
    await procurement.act(po_id, "receipts", {"lines": [{"sku": "MUG-1", "quantity": 60}]})

    refused = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/receipts",
        json={"lines": [{"sku": "MUG-1", "quantity": 30}, {"sku": "MUG-1", "quantity": 16}]},
    )

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "lines.0.quantity"
    assert [line["received_quantity"] for line in (await procurement.po(po_id))["lines"]] == [60, 0]


async def test_receipt_of_a_sku_not_on_the_order_is_refused(procurement: Procurement) -> None:
    body = order_with(lines=[{"sku": "MUG-1", "quantity": 10, "unit_cost": "2.50"}])
    po_id = await procurement.sent_order(body)

    refused = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/receipts",
        json={"lines": [{"sku": "MUG-1", "quantity": 5}, {"sku": "PLATE-2", "quantity": 1}]},
    )

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "lines.1.sku"
    assert (await procurement.po(po_id))["lines"][0]["received_quantity"] == 0
