"""Service tests of the shared exception shape and its doors: claim, unclaim and resolve by
`exception_id`, each checked and audited, beside the order's own hold route."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from keel_contracts.events import PaymentHeld
from keel_contracts.roles import Role
from order_harness import ORDER, Stack, running_order

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

KIM = ("kim", Role.CUSTOMER_SERVICE)  # fraud reviews are customer service's
KAI = ("kai", Role.CUSTOMER_SERVICE)
OLA = ("ola", Role.OPERATIONS)  # oversees the queue
FAY = ("fay", Role.FINANCE)


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_order(tmp_path, Stack) as stack:
        yield stack


async def fraud_review(stack: Stack, external_id: str = "R-1") -> dict[str, Any]:
    """A new customer's high-value order abroad: a fraud_review, customer service's."""
    body = copy.deepcopy(ORDER)
    body["external_id"] = external_id
    body["lines"][0]["unit_price"] = "900.00"
    body["shipping"]["address"]["country"] = "FR"
    order_id = await stack.place(body)
    return await only_exception(stack, order_id)


async def only_exception(stack: Stack, order_id: str) -> dict[str, Any]:
    response = await stack.client.get("/v1/exceptions")
    assert response.status_code == 200, response.text
    (item,) = [i for i in response.json()["items"] if i["order_id"] == order_id]
    return dict(item)


async def act(
    stack: Stack, exception_id: str, action: str, by: tuple[str, Role], **body: Any
) -> httpx.Response:
    return await stack.client.post(
        f"/v1/exceptions/{exception_id}/{action}",
        json=body or None,
        headers=stack.as_person(*by),
    )


async def test_the_queue_shows_the_shared_shape(stack: Stack) -> None:
    item = await fraud_review(stack)
    assert item["exception_id"] == f"hold-{item['hold_id']}"
    assert (item["priority"], item["claimed_by"], item["claimed_at"]) == ("high", None, None)
    payment = await stack.place({**ORDER, "external_id": "P-1"})
    await stack.publish(PaymentHeld(order_id=payment, reason="issuer asks for review"))
    assert (await only_exception(stack, payment))["priority"] == "high"


async def test_a_claim_shows_who_has_it_and_keeps_others_off(stack: Stack) -> None:
    item = await fraud_review(stack)
    exception_id = item["exception_id"]

    claimed = await act(stack, exception_id, "claim", KIM)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["claimed_by"] == "kim"
    assert claimed.json()["claimed_at"] is not None
    assert (await act(stack, exception_id, "claim", KIM)).status_code == 200  # hers already
    assert (await only_exception(stack, item["order_id"]))["claimed_by"] == "kim"

    taken = await act(stack, exception_id, "claim", KAI)
    assert taken.status_code == 409
    assert "claimed by kim" in taken.json()["detail"]
    refused = await act(stack, exception_id, "resolve", KAI, decision="release", note="ok")
    assert refused.status_code == 409
    assert (await act(stack, exception_id, "unclaim", KAI)).status_code == 403

    decided = await act(stack, exception_id, "resolve", KIM, decision="release", note="called")
    assert decided.status_code == 200, decided.text
    assert decided.json()["hold"]["resolved_by"] == "kim"
    again = await act(stack, exception_id, "claim", KIM)
    assert again.status_code == 409
    assert "already resolved" in again.json()["detail"]


async def test_operations_takes_a_claim_back_and_decides(stack: Stack) -> None:
    item = await fraud_review(stack)
    exception_id = item["exception_id"]
    assert (await act(stack, exception_id, "claim", KIM)).status_code == 200

    # An overseer may decide a claimed exception, and may let anyone's claim go.
    freed = await act(stack, exception_id, "unclaim", OLA)
    assert freed.status_code == 200, freed.text
    assert freed.json()["claimed_by"] is None
    assert (await act(stack, exception_id, "claim", KAI)).status_code == 200
    rejected = await act(stack, exception_id, "resolve", OLA, decision="reject", note="fraud")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"


async def test_only_who_may_decide_may_claim(stack: Stack) -> None:
    item = await fraud_review(stack)
    refused = await act(stack, item["exception_id"], "claim", FAY)
    assert refused.status_code == 403
    assert "fraud_review" in refused.json()["detail"]
    walt = await act(stack, item["exception_id"], "claim", ("walt", Role.WAREHOUSE))
    assert walt.status_code == 403  # the route's table refuses before the exception is looked at


@pytest.mark.parametrize("exception_id", ["hold-999999", "hold-x", "order-1", "hold-1234567890"])
async def test_an_unknown_exception_is_a_404(stack: Stack, exception_id: str) -> None:
    for action in ("claim", "unclaim"):
        assert (await act(stack, exception_id, action, OLA)).status_code == 404
    resolve = await act(stack, exception_id, "resolve", OLA, decision="release", note="x")
    assert resolve.status_code == 404


async def test_a_bad_decision_is_a_422_naming_the_field(stack: Stack) -> None:
    item = await fraud_review(stack)
    response = await act(stack, item["exception_id"], "resolve", KIM, decision="maybe", note="x")
    assert response.status_code == 422
    assert "decision" in response.text
    extra = await act(
        stack, item["exception_id"], "resolve", KIM, decision="release", note="x", by_whom="z"
    )
    assert extra.status_code == 422


async def test_claims_are_audited(stack: Stack) -> None:
    item = await fraud_review(stack)
    assert (await act(stack, item["exception_id"], "claim", KIM)).status_code == 200
    assert (await act(stack, item["exception_id"], "unclaim", KIM)).status_code == 200
    response = await stack.client.get("/v1/audit", params={"object_id": item["order_id"]})
    assert response.status_code == 200, response.text
    actions = [(e["action"], e["actor"]) for e in response.json()["items"]]
    assert ("hold.claimed", "kim") in actions
    assert ("hold.unclaimed", "kim") in actions
