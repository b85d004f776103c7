"""Service tests: procurement's governed actions on the audit trail (see `keel_kit.audit`), each
naming the caller who took it, with the object before and after, the request it came in, and
the service's hash chain intact."""

from __future__ import annotations

from typing import Any

import pytest

from keel_contracts.roles import Role
from keel_kit import audit
from keel_kit.testing import TEST_ADMIN
from procurement_harness import LARGE, TOMORROW, Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

POLICY = {"supplier_id": "ACME", "service_level": "0.95", "min_order_qty": 10, "pack_size": 5}


async def trail(procurement: Procurement, object_id: str) -> list[dict[str, Any]]:
    """The audit entries of one object, newest first."""
    page = await procurement.get_json("/v1/audit", object_id=object_id)
    items: list[dict[str, Any]] = page["items"]
    return items


async def chain_holds(procurement: Procurement) -> bool:
    page = await procurement.get_json("/v1/audit/chain")
    return audit.broken_link(page["entries"], page["head"]) is None


async def test_each_approval_is_on_the_trail_the_first_awaiting_a_second_person(
    procurement: Procurement,
) -> None:
    po_id = (await procurement.draft(LARGE))["po_id"]

    await procurement.act(
        po_id, "approve", headers=procurement.buyer("ann") | {"X-Request-Id": "req-ann"}
    )
    await procurement.approve(po_id, by="bob")

    second, first = await trail(procurement, po_id)
    assert (first["actor"], first["role"], first["action"]) == (
        "ann",
        "procurement",
        "purchase_order.approved",
    )
    assert (first["object_type"], first["owner_role"]) == ("purchase_order", "procurement")
    assert first["request_id"] == "req-ann"  # the caller's, as it sent it
    assert first["before"]["approvers"] == []
    assert first["after"] == {
        "status": "draft",
        "total": "12500.00",
        "currency": "USD",
        "approvers": ["ann"],
        "approvals_missing": 1,
    }
    assert second["actor"] == "bob"
    assert second["request_id"] is not None  # made up for a caller who sent none
    assert second["before"]["approvers"] == ["ann"]
    assert (second["after"]["status"], second["after"]["approvals_missing"]) == ("approved", 0)
    assert await chain_holds(procurement)


async def test_a_refused_approval_leaves_no_entry(procurement: Procurement) -> None:
    po_id = (await procurement.draft())["po_id"]

    own = await procurement.client.post(f"/v1/purchase-orders/{po_id}/approve")

    assert own.status_code == 403  # the admin drafted it
    assert await trail(procurement, po_id) == []


async def test_cancelling_is_on_the_trail_with_its_reason(procurement: Procurement) -> None:
    po_id = (await procurement.draft())["po_id"]

    await procurement.act(po_id, "cancel", {"reason": "supplier out of stock"})

    [entry] = await trail(procurement, po_id)
    assert (entry["actor"], entry["role"], entry["action"]) == (
        TEST_ADMIN,
        "admin",
        "purchase_order.cancelled",
    )
    assert entry["reason"] == "supplier out of stock"
    assert (entry["before"]["status"], entry["after"]["status"]) == ("draft", "cancelled")
    assert await chain_holds(procurement)


async def test_sending_confirming_and_a_later_date_are_each_on_the_trail(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    later = "2999-01-31"

    await procurement.act(po_id, "confirm", {"expected_date": TOMORROW})
    await procurement.act(po_id, "confirm", {"expected_date": TOMORROW})  # changes nothing
    await procurement.act(po_id, "confirm", {"expected_date": later})

    delayed, confirmed, sent, _approved = await trail(procurement, po_id)
    assert (sent["action"], sent["before"]["status"], sent["after"]["status"]) == (
        "purchase_order.sent",
        "approved",
        "sent",
    )
    assert confirmed["action"] == "purchase_order.confirmed"
    assert (confirmed["before"]["expected_date"], confirmed["after"]["expected_date"]) == (
        None,
        TOMORROW,
    )
    assert delayed["action"] == "purchase_order.delayed"
    assert (delayed["before"]["expected_date"], delayed["after"]["expected_date"]) == (
        TOMORROW,
        later,
    )
    assert delayed["after"]["outstanding"] == {"MUG-1": 100, "PLATE-2": 40}
    assert await chain_holds(procurement)


async def test_a_receipt_is_warehouse_s_entry_and_its_replay_adds_none(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    headers = procurement.as_person("wes", Role.WAREHOUSE) | {"Idempotency-Key": "r-1"}
    body = {"lines": [{"sku": "MUG-1", "quantity": 60}]}
    path = f"/v1/purchase-orders/{po_id}/receipts"

    first = await procurement.client.post(path, json=body, headers=headers)
    replay = await procurement.client.post(path, json=body, headers=headers)

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["Idempotent-Replayed"] == "true"
    received = [e for e in await trail(procurement, po_id) if e["action"].endswith(".received")]
    [entry] = received
    assert (entry["actor"], entry["role"], entry["owner_role"]) == ("wes", "warehouse", "warehouse")
    assert entry["before"]["received"] == {"MUG-1": 0, "PLATE-2": 0}
    assert entry["after"]["arrived"] == {"MUG-1": 60}
    assert entry["after"]["received"] == {"MUG-1": 60, "PLATE-2": 0}
    assert entry["after"]["receipt_id"] == first.json()["receipt_id"]
    assert entry["after"]["status"] == "partially_received"
    assert await chain_holds(procurement)


async def test_closing_short_is_on_the_trail_with_what_never_came(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    await procurement.act(po_id, "receipts", {"lines": [{"sku": "MUG-1", "quantity": 100}]})

    await procurement.act(po_id, "close")

    closed = (await trail(procurement, po_id))[0]
    assert closed["action"] == "purchase_order.closed"
    assert closed["after"]["short"] == {"PLATE-2": 40}
    assert closed["after"]["status"] == "closed"


async def test_putting_a_policy_records_it_before_and_after(procurement: Procurement) -> None:
    path = "/v1/policies/MUG-1/WH-EAST"
    buyer = procurement.buyer("ann")
    assert (await procurement.client.put(path, json=POLICY, headers=buyer)).status_code == 200

    changed = POLICY | {"service_level": "0.99", "pack_size": 12}
    assert (await procurement.client.put(path, json=changed, headers=buyer)).status_code == 200

    replaced, created = await trail(procurement, "MUG-1/WH-EAST")
    assert (created["action"], created["object_type"]) == (
        "replenishment_policy.put",
        "replenishment_policy",
    )
    assert created["before"] is None
    assert created["after"] == POLICY | {"service_level": "0.9500"}
    assert replaced["before"] == created["after"]
    assert replaced["after"] == changed | {"service_level": "0.9900"}
    assert (replaced["actor"], replaced["owner_role"]) == ("ann", "procurement")
    assert await chain_holds(procurement)


async def test_creating_a_supplier_is_on_the_trail(procurement: Procurement) -> None:
    [entry] = await trail(procurement, "ACME")  # the harness created it, as the admin

    assert (entry["action"], entry["actor"], entry["object_type"]) == (
        "supplier.created",
        TEST_ADMIN,
        "supplier",
    )
    assert entry["before"] is None
    assert entry["after"] == {"supplier_id": "ACME", "name": "Acme Supplies", "lead_time_days": 7}
