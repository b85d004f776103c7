"""Service tests of order's audit trail: a person's hold resolution, cancellation and channel
creation are each recorded once, under the order (or channel) they touched, with who acted, the
state before and after, why, and the request; and the chain they form holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from test_order_holds import KIM, Stack, plain, risky

from keel_contracts.events import PaymentHeld
from keel_contracts.roles import Role
from keel_kit import audit
from keel_kit.testing import TEST_ADMIN
from keel_order import service
from order_harness import running_order

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

CARA = ("cara", Role.CUSTOMER_SERVICE)
FAY = ("fay", Role.FINANCE)


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_order(tmp_path, Stack) as stack:
        yield stack


async def entries(stack: Stack, object_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await stack.get_json("/v1/audit", object_id=object_id))["items"]
    return items


async def assert_chain_holds(stack: Stack) -> None:
    page = await stack.get_json("/v1/audit/chain")
    assert audit.broken_link(page["entries"], page["head"]) is None


async def test_a_hold_resolution_is_recorded_under_its_order(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    hold_id = await stack.hold_id(order_id, "fraud_review")

    response = await stack.resolve(order_id, hold_id, "release", note="known customer", by=KIM)
    assert response.status_code == 200, response.text

    (entry,) = await entries(stack, order_id)
    assert (entry["actor"], entry["role"], entry["action"]) == (
        "kim",
        "customer_service",
        "hold.resolved",
    )
    assert (entry["object_type"], entry["owner_role"]) == ("hold", "customer_service")
    assert entry["before"] == {
        "hold_id": hold_id,
        "hold_type": "fraud_review",
        "status": "open",
        "decision": None,
        "order_status": "on_hold",
    }
    assert entry["after"] == {
        "hold_id": hold_id,
        "hold_type": "fraud_review",
        "status": "resolved",
        "decision": "release",
        "order_status": "validating",
    }
    assert entry["reason"] == "known customer"
    assert entry["request_id"] is not None
    await assert_chain_holds(stack)


async def test_the_entry_names_the_request_the_caller_sent(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    hold_id = await stack.hold_id(order_id, "fraud_review")

    response = await stack.client.post(
        f"/v1/orders/{order_id}/holds/{hold_id}/resolve",
        json={"decision": "reject", "note": "stolen card"},
        headers={"X-Request-Id": "req-42"},
    )
    assert response.status_code == 200, response.text

    (entry,) = await entries(stack, order_id)
    assert (entry["actor"], entry["role"]) == (TEST_ADMIN, "admin")
    assert entry["after"]["decision"] == "reject"
    assert entry["after"]["order_status"] == "rejected"
    assert entry["request_id"] == "req-42"


async def test_a_refused_resolution_records_nothing(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    hold_id = await stack.hold_id(order_id, "fraud_review")
    assert (await stack.resolve(order_id, hold_id, "release")).status_code == 200

    again = await stack.resolve(order_id, hold_id, "reject")

    assert again.status_code == 409, again.text
    assert [e["after"]["decision"] for e in await entries(stack, order_id)] == ["release"]
    await assert_chain_holds(stack)


async def test_a_payment_holds_resolution_belongs_to_finance(stack: Stack) -> None:
    order_id = await stack.place(plain("P-1"))
    await stack.publish(PaymentHeld(order_id=order_id, reason="issuer asks for review"))
    hold_id = await stack.hold_id(order_id, "payment_hold")

    response = await stack.resolve(order_id, hold_id, "release", note="verified", by=FAY)
    assert response.status_code == 200, response.text

    finance = await stack.client.get(
        "/v1/audit", params={"object_id": order_id}, headers=stack.as_person(*FAY)
    )
    (entry,) = finance.json()["items"]
    assert (entry["actor"], entry["owner_role"]) == ("fay", "finance")
    service = await stack.client.get(
        "/v1/audit", params={"object_id": order_id}, headers=stack.as_person(*CARA)
    )
    assert service.json()["items"] == []  # customer service does not own a payment hold


async def test_a_cancellation_is_recorded_with_its_reason_and_closed_holds(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    hold_id = await stack.hold_id(order_id, "fraud_review")

    response = await stack.client.post(
        f"/v1/orders/{order_id}/cancel",
        json={"reason": "customer changed their mind"},
        headers=stack.as_person(*CARA),
    )
    assert response.status_code == 200, response.text

    (entry,) = await entries(stack, order_id)
    assert (entry["actor"], entry["role"], entry["action"]) == (
        "cara",
        "customer_service",
        "order.cancelled",
    )
    assert (entry["object_type"], entry["owner_role"]) == ("order", "customer_service")
    assert entry["before"] == {"status": "on_hold"}
    assert entry["after"] == {"status": "cancelled", "holds_closed": [hold_id]}
    assert entry["reason"] == "customer changed their mind"
    assert entry["request_id"] is not None
    await assert_chain_holds(stack)


async def test_a_new_channel_is_recorded_with_its_policies(stack: Stack) -> None:
    channel = {
        "channel_id": "strict",
        "name": "Strict",
        "market_country": "US",
        "backorder_policy": "reject",
    }
    assert (await stack.client.post("/v1/channels", json=channel)).status_code == 201

    (entry,) = await entries(stack, "strict")
    assert (entry["actor"], entry["role"], entry["action"]) == (
        TEST_ADMIN,
        "admin",
        "channel.created",
    )
    assert (entry["object_type"], entry["owner_role"]) == ("channel", "admin")
    assert entry["before"] is None
    assert entry["after"] == {**channel, "release_delay_seconds": 0, "max_units_per_customer": None}
    assert entry["request_id"] is not None
    await assert_chain_holds(stack)


async def test_every_action_on_an_order_chains_in_turn(stack: Stack) -> None:
    order_id = await stack.place(plain("P-1"))
    await stack.publish(PaymentHeld(order_id=order_id, reason="issuer asks for review"))
    hold_id = await stack.hold_id(order_id, "payment_hold")
    assert (await stack.resolve(order_id, hold_id, "release", by=FAY)).status_code == 200
    cancelled = await stack.client.post(f"/v1/orders/{order_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text

    newest_first = [e["action"] for e in await entries(stack, order_id)]

    assert newest_first == ["order.cancelled", "hold.resolved"]
    await assert_chain_holds(stack)


async def test_channels_are_announced_once_and_again_when_changed(stack: Stack) -> None:
    async def announced() -> list[tuple[str, str]]:
        await stack.run_job(service.announce_channels)
        envelopes = await stack.staged("orders.channel.v1")
        return [(e.payload["channel_id"], e.payload["name"]) for e in envelopes]

    seeded = await announced()  # the channels the first migration made
    assert sorted(seeded) == [
        ("marketplace-a", "Marketplace A"),
        ("marketplace-b", "Marketplace B"),
        ("web", "Web store"),
    ]
    channel = {
        "channel_id": "b2b",
        "name": "B2B",
        "market_country": "DE",
        "backorder_policy": "reject",
    }
    assert (await stack.client.post("/v1/channels", json=channel)).status_code == 201
    assert (await announced())[3:] == [("b2b", "B2B")]
    assert (await announced())[4:] == []  # nothing new to say

    renamed = await stack.client.patch("/v1/channels/b2b", json={"name": "Wholesale"})
    assert renamed.status_code == 200, renamed.text
    assert (await announced())[4:] == [("b2b", "Wholesale")]
