"""Service tests: a purchase order's approvals, one or two approvers by its total."""

from __future__ import annotations

import pytest

from procurement_harness import LARGE, Procurement, order_with

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def test_order_above_the_threshold_waits_for_a_second_approver(
    procurement: Procurement,
) -> None:
    po = await procurement.draft(LARGE)
    assert (po["total"], po["approvals_required"]) == ("12500.00", 2)

    first = await procurement.act(po["po_id"], "approve", {"approver": "ann"})

    assert (first["status"], first["approvers"]) == ("draft", ["ann"])
    assert first["approved_at"] is None
    assert [e.type for e in await procurement.events(po["po_id"])] == ["purchase_order.drafted"]
    second = await procurement.act(po["po_id"], "approve", {"approver": "bob"})
    assert (second["status"], second["approvers"]) == ("approved", ["ann", "bob"])
    approved = (await procurement.events(po["po_id"]))[-1]
    assert approved.type == "purchase_order.approved"
    assert approved.payload["approvers"] == ["ann", "bob"]
    assert approved.payload["total"] == {"amount": "12500.00", "currency": "USD"}


async def test_same_approver_twice_is_a_conflict(procurement: Procurement) -> None:
    po_id = (await procurement.draft(LARGE))["po_id"]
    await procurement.act(po_id, "approve", {"approver": "ann"})

    again = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/approve", json={"approver": "ann"}
    )

    assert again.status_code == 409
    assert "second, different approver" in again.json()["detail"]
    po = await procurement.po(po_id)
    assert (po["status"], po["approvers"]) == ("draft", ["ann"])


async def test_order_at_the_threshold_needs_one_approver(procurement: Procurement) -> None:
    at_threshold = order_with(lines=[{"sku": "MUG-1", "quantity": 4000, "unit_cost": "2.50"}])
    po = await procurement.draft(at_threshold)
    assert (po["total"], po["approvals_required"]) == ("10000.00", 1)

    approved = await procurement.act(po["po_id"], "approve", {"approver": "ann"})

    assert approved["status"] == "approved"
