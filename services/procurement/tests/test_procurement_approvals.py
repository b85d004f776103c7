"""Service tests: a purchase order's approvals, one or two approvers by its total. The approver
is the caller, never the person who drafted the order, and two approvals are two people."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from keel_contracts.roles import Role
from keel_kit.testing import TEST_ADMIN
from procurement_harness import LARGE, ORDER, TODAY, Procurement, order_with

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def approve_url(po_id: str) -> str:
    return f"/v1/purchase-orders/{po_id}/approve"


async def test_order_above_the_threshold_waits_for_a_second_approver(
    procurement: Procurement,
) -> None:
    po = await procurement.draft(LARGE)
    assert (po["total"], po["approvals_required"]) == ("12500.00", 2)

    first = await procurement.approve(po["po_id"], by="ann")

    assert (first["status"], first["approvers"]) == ("draft", ["ann"])
    assert first["approved_at"] is None
    assert [e.type for e in await procurement.events(po["po_id"])] == ["purchase_order.drafted"]
    second = await procurement.approve(po["po_id"], by="bob")
    assert (second["status"], second["approvers"]) == ("approved", ["ann", "bob"])
    approved = (await procurement.events(po["po_id"]))[-1]
    assert approved.type == "purchase_order.approved"
    assert approved.payload["approvers"] == ["ann", "bob"]
    assert approved.payload["total"] == {"amount": "12500.00", "currency": "USD"}


async def test_same_approver_twice_is_a_conflict(procurement: Procurement) -> None:
    po_id = (await procurement.draft(LARGE))["po_id"]
    await procurement.approve(po_id, by="ann")

    again = await procurement.client.post(approve_url(po_id), headers=procurement.buyer("ann"))

    assert again.status_code == 409
    assert "second, different approver" in again.json()["detail"]
    po = await procurement.po(po_id)
    assert (po["status"], po["approvers"]) == ("draft", ["ann"])


async def test_order_at_the_threshold_needs_one_approver(procurement: Procurement) -> None:
    at_threshold = order_with(lines=[{"sku": "MUG-1", "quantity": 4000, "unit_cost": "2.50"}])
    po = await procurement.draft(at_threshold)
    assert (po["total"], po["approvals_required"]) == ("10000.00", 1)

    approved = await procurement.approve(po["po_id"])

    assert approved["status"] == "approved"


@pytest.mark.parametrize("body", [{}, None], ids=["empty body", "no body"])
async def test_approval_without_a_named_approver_records_the_caller(
    procurement: Procurement, body: dict[str, Any] | None
) -> None:
    po_id = (await procurement.draft())["po_id"]

    response = await procurement.client.post(
        approve_url(po_id), json=body, headers=procurement.buyer("ann")
    )

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["approvers"]) == ("approved", ["ann"])
    approved = (await procurement.events(po_id))[-1]
    assert approved.payload["approvers"] == ["ann"]


async def test_approval_naming_the_caller_is_accepted_as_older_clients_send_it(
    procurement: Procurement,
) -> None:
    po_id = (await procurement.draft())["po_id"]

    response = await procurement.client.post(
        approve_url(po_id), json={"approver": "ann"}, headers=procurement.buyer("ann")
    )

    assert (response.status_code, response.json()["approvers"]) == (200, ["ann"])


async def test_approval_naming_someone_else_is_forbidden_and_records_nothing(
    procurement: Procurement,
) -> None:
    po_id = (await procurement.draft())["po_id"]

    response = await procurement.client.post(
        approve_url(po_id), json={"approver": "bob"}, headers=procurement.buyer("ann")
    )

    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "approver"
    po = await procurement.po(po_id)
    assert (po["status"], po["approvers"]) == ("draft", [])


async def test_an_order_records_the_person_who_drafted_it(procurement: Procurement) -> None:
    by_admin = await procurement.draft()
    by_buyer = await procurement.draft(headers=procurement.buyer("ann"))

    assert (by_admin["created_by"], by_buyer["created_by"]) == (TEST_ADMIN, "ann")
    assert (await procurement.po(by_buyer["po_id"]))["created_by"] == "ann"


@pytest.mark.parametrize("order", [ORDER, LARGE], ids=["one approver", "two approvers"])
async def test_the_person_who_drafted_an_order_may_not_approve_it(
    procurement: Procurement, order: dict[str, Any]
) -> None:
    po_id = (await procurement.draft(order, headers=procurement.buyer("ann")))["po_id"]

    response = await procurement.client.post(approve_url(po_id), headers=procurement.buyer("ann"))

    assert response.status_code == 403, response.text
    assert "ann drafted purchase order" in response.json()["detail"]
    po = await procurement.po(po_id)
    assert (po["status"], po["approvers"]) == ("draft", [])
    assert [e.type for e in await procurement.events(po_id)] == ["purchase_order.drafted"]


async def test_the_drafter_may_not_be_the_second_approver_either(
    procurement: Procurement,
) -> None:
    po_id = (await procurement.draft(LARGE, headers=procurement.buyer("ann")))["po_id"]
    await procurement.approve(po_id, by="bob")

    response = await procurement.client.post(approve_url(po_id), headers=procurement.buyer("ann"))

    assert response.status_code == 403, response.text
    assert (await procurement.po(po_id))["status"] == "draft"
    approved = await procurement.approve(po_id, by="cara")
    assert (approved["status"], approved["approvers"]) == ("approved", ["bob", "cara"])


@pytest.mark.parametrize("known", [True, False], ids=["existing order", "unknown order"])
async def test_a_role_other_than_procurement_may_not_approve(
    procurement: Procurement, known: bool
) -> None:
    po_id = (await procurement.draft())["po_id"] if known else "nope"
    warehouse = procurement.as_person("wes", Role.WAREHOUSE)

    response = await procurement.client.post(approve_url(po_id), json={}, headers=warehouse)

    assert response.status_code == 403, response.text  # the guard answers before any lookup
    assert "may not POST /v1/purchase-orders/{po_id}/approve" in response.json()["detail"]
    if known:
        assert (await procurement.po(po_id))["approvers"] == []


async def test_a_replenishment_run_s_draft_records_the_run_and_any_buyer_may_approve_it(
    procurement: Procurement,
) -> None:
    days = [{"date": (TODAY - timedelta(days=n)).isoformat(), "quantity": 10} for n in (1, 2, 3)]
    history = {"series": [{"sku": "MUG-1", "location_id": "WH-EAST", "days": days}]}
    assert (await procurement.client.post("/v1/demand-history", json=history)).status_code == 201
    policy = {"supplier_id": "ACME", "service_level": "0.95", "min_order_qty": 50, "pack_size": 12}
    put = await procurement.client.put("/v1/policies/MUG-1/WH-EAST", json=policy)
    assert put.status_code == 200, put.text
    run = await procurement.client.post("/v1/replenishment-runs", headers=procurement.buyer("ann"))
    assert run.status_code == 201, run.text

    [suggestion] = (await procurement.get_json("/v1/suggestions"))["items"]
    po = await procurement.po(suggestion["po_id"])

    assert po["created_by"] == f"replenishment-run:{suggestion['run_id']}"
    approved = await procurement.approve(po["po_id"], by="ann")  # who asked for the run, too
    assert (approved["status"], approved["approvers"]) == ("approved", ["ann"])
