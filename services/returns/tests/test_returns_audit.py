"""Service tests: the returns service's governed actions on the audit trail (see
`keel_kit.audit`), each naming the caller who took it, with the object before and after, the
request it came in, and the service's hash chain intact."""

from __future__ import annotations

from typing import Any

import pytest

from keel_contracts.roles import Role
from keel_kit import audit
from keel_kit.testing import TEST_ADMIN
from returns_harness import Stack

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def trail(stack: Stack, object_id: str) -> list[dict[str, Any]]:
    """The audit entries of one object, newest first."""
    page = await stack.get_json("/v1/audit", object_id=object_id)
    items: list[dict[str, Any]] = page["items"]
    return items


async def chain_holds(stack: Stack) -> bool:
    page = await stack.get_json("/v1/audit/chain")
    return audit.broken_link(page["entries"], page["head"]) is None


async def test_authorizing_a_return_is_customer_service_s_entry(stack: Stack) -> None:
    await stack.order("o-1", ("MUG-1", 2, "10.00"), total="20.00")
    body = {"order_id": "o-1", "lines": [{"sku": "MUG-1", "quantity": 1, "reason": "chipped"}]}
    headers = stack.as_person("cass", Role.CUSTOMER_SERVICE) | {"X-Request-Id": "req-cass"}

    created = await stack.client.post("/v1/returns", json=body, headers=headers)

    assert created.status_code == 201, created.text
    [entry] = await trail(stack, created.json()["return_id"])
    assert (entry["actor"], entry["role"], entry["action"]) == (
        "cass",
        "customer_service",
        "return.authorized",
    )
    assert (entry["object_type"], entry["owner_role"]) == ("return", "customer_service")
    assert entry["request_id"] == "req-cass"
    assert entry["before"] is None
    assert entry["after"] == {
        "status": "authorized",
        "order_id": "o-1",
        "channel": "web",
        "lines": [{"sku": "MUG-1", "quantity": 1, "reason": "chipped"}],
    }
    assert await chain_holds(stack)


async def test_receipt_and_inspection_are_warehouse_s_entries(stack: Stack) -> None:
    return_id = await stack.authorized("o-1", "MUG-1", "10.00")
    warehouse = stack.as_person("wes", Role.WAREHOUSE)
    receipt = {"location_id": "WH-R", "lines": [{"sku": "MUG-1", "quantity": 1}]}
    inspection = {"lines": [{"sku": "MUG-1", "quantity": 1, "grade": "A"}]}

    received = await stack.client.post(
        f"/v1/returns/{return_id}/receipt", json=receipt, headers=warehouse
    )
    inspected = await stack.client.post(
        f"/v1/returns/{return_id}/inspection", json=inspection, headers=warehouse
    )

    assert (received.status_code, inspected.status_code) == (200, 200)
    graded, arrived, authorized = await trail(stack, return_id)
    assert authorized["actor"] == TEST_ADMIN
    assert (arrived["actor"], arrived["role"], arrived["action"]) == (
        "wes",
        "warehouse",
        "return.received",
    )
    assert arrived["owner_role"] == "warehouse"
    assert arrived["before"] == {"status": "authorized"}
    assert arrived["after"] == {
        "status": "received",
        "location_id": "WH-R",
        "received": {"MUG-1": 1},
    }
    assert (graded["action"], graded["owner_role"]) == ("return.inspected", "warehouse")
    assert graded["before"] == {"status": "received", "received": {"MUG-1": 1}}
    assert graded["after"]["status"] == "refund_requested"
    assert graded["after"]["graded"] == [{"sku": "MUG-1", "grade": "A", "quantity": 1}]
    [refund] = graded["after"]["refunds"]
    assert (refund["status"], refund["amount"], refund["currency"]) == (
        "requested",
        "10.00",
        "USD",
    )
    assert graded["request_id"] is not None
    assert await chain_holds(stack)


async def test_approving_a_refund_is_finance_s_entry_once_however_often_replayed(
    stack: Stack,
) -> None:
    return_id = await stack.returned("o-1", "TV-1", "800.00")
    [refund] = (await stack.view(return_id))["refunds"]
    assert refund["status"] == "pending_approval"

    first = await stack.approve(refund["refund_id"], by="fiona", key="approve-1")
    replay = await stack.approve(refund["refund_id"], by="fiona", key="approve-1")

    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.headers["Idempotent-Replayed"] == "true"
    [entry] = await trail(stack, refund["refund_id"])
    assert (entry["actor"], entry["role"], entry["action"]) == (
        "fiona",
        "finance",
        "refund.approved",
    )
    assert (entry["object_type"], entry["owner_role"]) == ("refund", "finance")
    assert entry["before"] == {
        "status": "pending_approval",
        "amount": "800.00",
        "currency": "USD",
        "return_id": return_id,
        "approver": None,
    }
    assert entry["after"] == entry["before"] | {"status": "requested", "approver": "fiona"}
    assert entry["request_id"] is not None
    assert await chain_holds(stack)


async def test_a_refused_refund_approval_leaves_no_entry(stack: Stack) -> None:
    return_id = await stack.returned("o-1", "MUG-1", "10.00")  # under the threshold: not waiting
    [refund] = (await stack.view(return_id))["refunds"]

    refused = await stack.approve(refund["refund_id"])

    assert refused.status_code == 409
    assert await trail(stack, refund["refund_id"]) == []


async def test_return_policies_put_are_operations_entries_with_before_and_after(
    stack: Stack,
) -> None:
    ops = stack.as_person("olga", Role.OPERATIONS)
    for body in ({"returnable": False, "reason": "hygiene"}, {"returnable": True}):
        put = await stack.client.put("/v1/return-policies/skus/EARRING-1", json=body, headers=ops)
        assert put.status_code == 200, put.text
    for days in (14, 30):
        put = await stack.client.put(
            "/v1/return-policies/channels/marketplace", json={"window_days": days}, headers=ops
        )
        assert put.status_code == 200, put.text

    allowed, barred = await trail(stack, "EARRING-1")
    assert (barred["action"], barred["object_type"]) == (
        "return_policy.sku_put",
        "sku_return_policy",
    )
    assert (barred["actor"], barred["role"], barred["owner_role"]) == (
        "olga",
        "operations",
        "operations",
    )
    assert barred["before"] is None  # every SKU is returnable until a policy says otherwise
    assert barred["after"] == {"returnable": False, "reason": "hygiene"}
    assert allowed["before"] == barred["after"]
    assert allowed["after"] == {"returnable": True, "reason": None}
    longer, first = await trail(stack, "marketplace")
    assert first["action"] == "return_policy.channel_put"
    assert (first["before"], first["after"]) == (None, {"window_days": 14})
    assert (longer["before"], longer["after"]) == ({"window_days": 14}, {"window_days": 30})
    assert await chain_holds(stack)
