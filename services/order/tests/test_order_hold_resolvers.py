"""Service tests of who resolves a hold: the caller (never a name in the body), in the hold's
owning role, operations or admin; and who a cancellation names on the holds it closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from test_order_holds import Stack, bulky, plain, risky

from keel_contracts.events import PaymentHeld
from keel_contracts.roles import Role
from keel_kit.testing import TEST_ADMIN
from order_harness import running_order

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

CARA = ("cara", Role.CUSTOMER_SERVICE)
FAY = ("fay", Role.FINANCE)
OLA = ("ola", Role.OPERATIONS)


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_order(tmp_path, Stack) as stack:
        yield stack


def forbidden(response: httpx.Response) -> str:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail: str = response.json()["detail"]
    return detail


async def fraud_hold(stack: Stack, external_id: str = "R-1") -> tuple[str, int]:
    order_id = await stack.place(risky(external_id))
    return order_id, await stack.hold_id(order_id, "fraud_review")


async def payment_hold(stack: Stack, external_id: str = "P-1") -> tuple[str, int]:
    order_id = await stack.place(plain(external_id))
    await stack.publish(PaymentHeld(order_id=order_id, reason="issuer asks for review"))
    return order_id, await stack.hold_id(order_id, "payment_hold")


# --- the resolver is the caller ---


async def test_a_body_naming_nobody_records_the_caller(stack: Stack) -> None:
    order_id, hold_id = await fraud_hold(stack)

    response = await stack.resolve(order_id, hold_id, "release", by=CARA)

    assert response.status_code == 200, response.text
    assert response.json()["hold"]["resolved_by"] == "cara"
    (done,) = (await stack.queue(status="resolved"))["items"]
    assert (done["hold_id"], done["resolution"], done["resolved_by"]) == (
        hold_id,
        "release",
        "cara",
    )


async def test_the_admin_client_resolves_as_itself(stack: Stack) -> None:
    order_id, hold_id = await fraud_hold(stack)

    response = await stack.resolve(order_id, hold_id, "release")

    assert response.json()["hold"]["resolved_by"] == TEST_ADMIN


async def test_a_body_naming_the_caller_is_accepted(stack: Stack) -> None:
    order_id, hold_id = await fraud_hold(stack)

    response = await stack.resolve(order_id, hold_id, "release", by=CARA, resolved_by="cara")

    assert response.status_code == 200, response.text
    assert response.json()["hold"]["resolved_by"] == "cara"


async def test_a_body_naming_someone_else_is_a_403(stack: Stack) -> None:
    order_id, hold_id = await fraud_hold(stack)
    before = await stack.sent_types(order_id)

    response = await stack.resolve(order_id, hold_id, "reject", by=CARA, resolved_by="kim")

    assert forbidden(response) == "cara may not act as 'kim': the actor is the caller"
    assert [e["field"] for e in response.json()["errors"]] == ["resolved_by"]
    [hold] = await stack.holds(order_id)
    assert hold["resolved_at"] is None
    assert await stack.sent_types(order_id) == before


# --- the owning role, operations or admin ---


async def test_finance_may_not_resolve_a_fraud_review_but_customer_service_may(
    stack: Stack,
) -> None:
    order_id, hold_id = await fraud_hold(stack)

    refused = await stack.resolve(order_id, hold_id, "release", by=FAY)

    assert forbidden(refused) == (
        f"fay (finance) may not resolve hold {hold_id}: a fraud_review is resolved by "
        "customer_service, operations or admin"
    )
    [hold] = await stack.holds(order_id)
    assert hold["resolved_at"] is None
    allowed = await stack.resolve(order_id, hold_id, "release", by=CARA)
    assert allowed.status_code == 200, allowed.text


async def test_customer_service_may_not_resolve_a_payment_hold_but_finance_may(
    stack: Stack,
) -> None:
    order_id, hold_id = await payment_hold(stack)

    refused = await stack.resolve(order_id, hold_id, "release", by=CARA)

    assert "a payment_hold is resolved by finance, operations or admin" in forbidden(refused)
    assert "payment.resolve_review" not in await stack.sent_types(order_id)
    allowed = await stack.resolve(order_id, hold_id, "release", by=FAY)
    assert allowed.json()["hold"]["resolved_by"] == "fay"


async def test_a_limit_review_is_operations_alone(stack: Stack) -> None:
    order_id = await stack.place(bulky("B-1"))
    hold_id = await stack.hold_id(order_id, "limit_review")

    for person in (CARA, FAY):
        forbidden(await stack.resolve(order_id, hold_id, "release", by=person))
    assert (await stack.resolve(order_id, hold_id, "release", by=OLA)).status_code == 200


async def test_operations_may_resolve_any_hold(stack: Stack) -> None:
    fraud_order, fraud = await fraud_hold(stack)
    payment_order, payment = await payment_hold(stack)

    released = await stack.resolve(fraud_order, fraud, "release", by=OLA)
    rejected = await stack.resolve(payment_order, payment, "reject", by=OLA)

    assert (released.status_code, rejected.status_code) == (200, 200)
    assert released.json()["hold"]["resolved_by"] == "ola"
    assert (rejected.json()["status"], rejected.json()["hold"]["resolved_by"]) == (
        "rejected",
        "ola",
    )


async def test_a_refused_role_learns_nothing_of_a_resolved_hold(stack: Stack) -> None:
    order_id, hold_id = await fraud_hold(stack)
    assert (await stack.resolve(order_id, hold_id, "release", by=CARA)).status_code == 200

    # A 403 before the 409: whether the hold was resolved is not for finance to learn here.
    forbidden(await stack.resolve(order_id, hold_id, "release", by=FAY))


# --- the guard comes first ---


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.PROCUREMENT, Role.LEADERSHIP])
@pytest.mark.parametrize(
    "body",
    [
        {"decision": "release", "note": "checked"},
        {"decision": "approve"},  # malformed: a 422 for a caller the route lets in
    ],
)
async def test_a_role_the_route_refuses_gets_a_403_whatever_the_hold_or_body(
    stack: Stack, role: Role, body: dict[str, Any]
) -> None:
    order_id, hold_id = await fraud_hold(stack)

    for path_order, path_hold in ((order_id, hold_id), ("nope", 999_999)):
        response = await stack.client.post(
            f"/v1/orders/{path_order}/holds/{path_hold}/resolve",
            json=body,
            headers=stack.as_person("wes", role),
        )
        assert "may not POST /v1/orders/{order_id}/holds/{hold_id}/resolve" in forbidden(response)
    [hold] = await stack.holds(order_id)
    assert hold["resolved_at"] is None


# --- cancellation ---


async def test_holds_a_cancellation_closes_name_the_person_who_cancelled(stack: Stack) -> None:
    order_id, hold_id = await fraud_hold(stack)

    response = await stack.client.post(
        f"/v1/orders/{order_id}/cancel",
        json={"reason": "customer asked"},
        headers=stack.as_person(*CARA),
    )

    assert response.json()["status"] == "cancelled"
    (done,) = (await stack.queue(status="resolved"))["items"]
    assert (done["hold_id"], done["resolution"], done["resolved_by"]) == (hold_id, "closed", "cara")
    assert done["resolution_note"] == "customer asked"
