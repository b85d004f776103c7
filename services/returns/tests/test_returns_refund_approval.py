"""Service tests of refund approval: when a refund waits (the order's refunds together above the
threshold) and who lets it go (the caller, a finance approver, never a name in the body)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from keel_contracts.roles import Role
from returns_harness import Stack, usd

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def forbidden(response: httpx.Response) -> str:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail: str = response.json()["detail"]
    return detail


async def waiting_refund(stack: Stack, order_id: str = "o-1") -> dict[str, Any]:
    """A refund of 800.00 on a return of its own, waiting for approval."""
    return_id = await stack.returned(order_id, "TV-1", "800.00")
    [refund] = (await stack.view(return_id))["refunds"]
    assert refund["status"] == "pending_approval"
    return dict(refund)


async def returned_separately(stack: Stack, order_id: str, price: str, units: int) -> list[str]:
    """An order of `units` mugs at `price`, shipped, and each mug returned on a return of its
    own (received and graded A): one refund each."""
    await stack.order(order_id, ("MUG-1", units, price), total=str(units * int(price)))
    return_ids = [await stack.authorize(order_id, ("MUG-1", 1)) for _ in range(units)]
    for return_id in return_ids:
        assert (await stack.receive(return_id, ("MUG-1", 1))).status_code == 200
        assert (await stack.inspect(return_id, ("MUG-1", 1, "A"))).status_code == 200
    return return_ids


# --- the approver is the caller ---


@pytest.mark.parametrize("body", [None, {}, {"approver": "fiona"}])
async def test_the_caller_approves_with_or_without_naming_themselves(
    stack: Stack, body: dict[str, Any] | None
) -> None:
    refund = await waiting_refund(stack)

    approved = await stack.approve(refund["refund_id"], body, by="fiona")

    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["approver"]) == ("requested", "fiona")
    [event] = await stack.sent("refund.requested")
    assert event.payload["approver"] == "fiona"


async def test_naming_someone_else_as_approver_is_a_403(stack: Stack) -> None:
    refund = await waiting_refund(stack)

    response = await stack.approve(refund["refund_id"], {"approver": "gus"}, by="fiona")

    assert forbidden(response) == "fiona may not act as 'gus': the actor is the caller"
    assert [e["field"] for e in response.json()["errors"]] == ["approver"]
    assert (await stack.view(refund["return_id"]))["refunds"][0]["status"] == "pending_approval"
    assert await stack.sent("refund.requested") == []


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.CUSTOMER_SERVICE, Role.LEADERSHIP])
@pytest.mark.parametrize("body", [{}, {"approver": 5, "priority": "high"}])
async def test_a_role_the_route_refuses_gets_a_403_whatever_the_refund_or_body(
    stack: Stack, role: Role, body: dict[str, Any]
) -> None:
    refund = await waiting_refund(stack)

    for refund_id in (refund["refund_id"], "nope"):
        response = await stack.approve(refund_id, body, by="wes", role=role)
        assert "may not POST /v1/refunds/{refund_id}/approve" in forbidden(response)
    assert await stack.sent("refund.requested") == []


async def test_a_retry_with_its_key_replays_whether_or_not_it_names_the_caller(
    stack: Stack,
) -> None:
    refund = await waiting_refund(stack)

    first = await stack.approve(refund["refund_id"], key="a-1")
    again = await stack.approve(refund["refund_id"], {"approver": "fiona"}, key="a-1")
    other = await stack.approve(refund["refund_id"], by="frank", key="a-1")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    # Keys are each caller's own: another approver reusing it is judged afresh, not handed
    # fiona's answer as theirs (the refund is approved already).
    assert other.status_code == 409, other.text
    assert "Idempotent-Replayed" not in other.headers
    assert len(await stack.sent("refund.requested")) == 1


# --- the threshold counts the order's refunds together ---


async def test_split_returns_over_the_threshold_together_need_approval(stack: Stack) -> None:
    first, second = await returned_separately(stack, "o-2", "300", units=2)

    [one] = (await stack.view(first))["refunds"]
    view = await stack.view(second)
    [two] = view["refunds"]
    assert (one["status"], one["amount"]) == ("requested", usd("300.00"))
    # 300.00 alone is under the 500.00 threshold; with the first the order's refunds are 600.00.
    assert (view["status"], two["status"], two["amount"]) == (
        "refund_pending_approval",
        "pending_approval",
        usd("300.00"),
    )
    assert view["note"] == (
        f"refund {two['refund_id']} of 300.00 USD brings the refunds of order o-2 to 600.00 "
        "USD, above the approval threshold 500.00: waiting for a finance approver"
    )
    assert [e.payload["refund_id"] for e in await stack.sent("refund.requested")] == [
        one["refund_id"]
    ]

    assert (await stack.approve(two["refund_id"])).status_code == 200
    requested = [e.payload["refund_id"] for e in await stack.sent("refund.requested")]
    assert requested == [one["refund_id"], two["refund_id"]]


async def test_every_refund_after_the_order_passes_the_threshold_waits(stack: Stack) -> None:
    return_ids = await returned_separately(stack, "o-3", "200", units=3)

    statuses = [(await stack.view(r))["refunds"][0]["status"] for r in return_ids]

    # 200.00, then 400.00, then 600.00 for the order: only the third passes 500.00.
    assert statuses == ["requested", "requested", "pending_approval"]


async def test_split_returns_under_the_threshold_together_go_at_once(stack: Stack) -> None:
    return_ids = await returned_separately(stack, "o-4", "250", units=2)

    views = [await stack.view(r) for r in return_ids]

    # 500.00 for the order: at the threshold, not above it.
    assert [v["status"] for v in views] == ["refund_requested", "refund_requested"]
    assert len(await stack.sent("refund.requested")) == 2
