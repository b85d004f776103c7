"""Service tests of channels signing their requests (Standard Webhooks): secrets issued, rotated
and revoked by admin; forged, stale, tampered and replayed signatures refused; a channel places,
reads and cancels only its own orders, and its idempotency keys are its own."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from keel_contracts.roles import Role
from keel_kit import audit
from keel_kit.partners import PartnerVerifier, signature_headers
from order_harness import ORDER, Stack

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

WEB = "channel:web"
SHOP: dict[str, Any] = {
    "channel_id": "shop",
    "name": "Shop",
    "market_country": "US",
    "backorder_policy": "reject",
}


async def issue(stack: Stack, channel: str = "web") -> dict[str, str]:
    response = await stack.client.post(f"/v1/channels/{channel}/secrets")
    assert response.status_code == 201, response.text
    issued: dict[str, str] = response.json()
    assert issued["secret"].startswith("whsec_")
    return issued


async def secret_for(stack: Stack, channel: str = "web") -> str:
    return (await issue(stack, channel))["secret"]


async def place_signed(
    stack: Stack, secret: str, order: dict[str, Any], **signing: Any
) -> httpx.Response:
    return await stack.signed(
        "POST", "/v1/orders", partner=WEB, secret=secret, body=order, **signing
    )


def refused_because(response: httpx.Response, status: int, words: str) -> bool:
    return response.status_code == status and words in response.json()["detail"]


async def test_a_signed_channel_places_an_order_keyed_by_its_webhook_id(stack: Stack) -> None:
    secret = await secret_for(stack)

    first = await place_signed(stack, secret, ORDER, webhook_id="msg_1")
    again = await place_signed(stack, secret, ORDER, webhook_id="msg_1")

    assert first.status_code == 202, first.text
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()  # one order, whatever the retries
    assert (await stack.order(first.json()["order_id"]))["channel"] == "web"


async def test_forged_stale_tampered_and_replayed_signatures_are_refused(stack: Stack) -> None:
    secret = await secret_for(stack)
    assert await _shop(stack)
    other_secret = await secret_for(stack, "shop")
    headers_for = {
        "another partner's secret": dict(secret=other_secret),
        "a made-up secret": dict(secret="whsec_" + "A" * 44),
        "six minutes old": dict(secret=secret, at=time.time() - 360),
        "six minutes ahead": dict(secret=secret, at=time.time() + 360),
    }
    for why, signing in headers_for.items():
        response = await place_signed(stack, order=ORDER, **signing)  # type: ignore[arg-type]
        assert response.status_code == 401, why

    # A body changed after signing no longer matches its signature.
    signed_for = ORDER | {"external_id": "W-signed"}
    tampered = ORDER | {"external_id": "W-tampered"}
    sent = signature_headers(secret, json.dumps(signed_for).encode(), partner=WEB)
    response = await stack.client.post(
        "/v1/orders", content=json.dumps(tampered).encode(), headers={"Authorization": "", **sent}
    )
    assert refused_because(response, 401, "No matching signature")

    # The same webhook-id with another body is a conflict, not a second order.
    assert (await place_signed(stack, secret, ORDER, webhook_id="msg_7")).status_code == 202
    reused = await place_signed(stack, secret, ORDER | {"external_id": "W-2"}, webhook_id="msg_7")
    assert refused_because(reused, 409, "different body")


async def test_a_request_naming_a_partner_without_a_signature_is_refused(stack: Stack) -> None:
    await secret_for(stack)
    response = await stack.client.post(
        "/v1/orders", json=ORDER, headers={"Authorization": "", "Keel-Partner": WEB}
    )
    assert refused_because(response, 401, "webhook-id")


async def test_a_channel_orders_reads_and_cancels_only_for_itself(stack: Stack) -> None:
    secret = await secret_for(stack)
    assert await _shop(stack)
    shops_order = await stack.place(ORDER | {"channel": "shop", "external_id": "S-1"})

    for_shop = await place_signed(stack, secret, ORDER | {"channel": "shop"})
    assert refused_because(for_shop, 403, "may not place orders for channel shop")

    read = await stack.signed("GET", f"/v1/orders/{shops_order}", partner=WEB, secret=secret)
    cancel = await stack.signed(
        "POST", f"/v1/orders/{shops_order}/cancel", partner=WEB, secret=secret, body={}
    )
    assert read.status_code == cancel.status_code == 404  # as if it did not exist
    assert (await stack.order(shops_order))["status"] != "cancelled"

    own = (await place_signed(stack, secret, ORDER)).json()["order_id"]
    read_own = await stack.signed("GET", f"/v1/orders/{own}", partner=WEB, secret=secret)
    assert read_own.status_code == 200
    cancel_own = await stack.signed(
        "POST", f"/v1/orders/{own}/cancel", partner=WEB, secret=secret, body={}
    )
    assert cancel_own.status_code == 200, cancel_own.text


async def test_in_a_batch_only_the_other_channels_order_is_refused(stack: Stack) -> None:
    secret = await secret_for(stack)
    assert await _shop(stack)
    batch = {
        "orders": [
            {"idempotency_key": "k-1", "order": ORDER},
            {"idempotency_key": "k-2", "order": ORDER | {"channel": "shop", "external_id": "S"}},
        ]
    }

    response = await stack.signed(
        "POST", "/v1/orders/batch", partner=WEB, secret=secret, body=batch
    )

    assert response.status_code == 200, response.text
    own, other = response.json()["results"]
    assert own["status"] == 202
    assert other["status"] == 403


async def test_idempotency_keys_are_each_callers_own(stack: Stack) -> None:
    """Another caller's key never replays the first caller's answer (nor shows its order id)."""
    secret = await secret_for(stack)
    signed = await place_signed(stack, secret, ORDER, webhook_id="shared-key")
    assert signed.status_code == 202

    desk = stack.as_person("desk-cora", Role.CUSTOMER_SERVICE)
    staff = await stack.client.post(
        "/v1/orders", json=ORDER, headers={**desk, "Idempotency-Key": "shared-key"}
    )
    # Judged afresh: the same web order exists, so a conflict, not a replay of its answer.
    assert staff.status_code == 409
    assert "Idempotent-Replayed" not in staff.headers


async def test_secrets_rotate_two_at_a_time_and_a_revoked_one_stops_at_once(
    stack: Stack,
) -> None:
    first = await issue(stack)
    old, old_id = first["secret"], first["secret_id"]
    new = await secret_for(stack)
    third = await stack.client.post("/v1/channels/web/secrets")
    assert refused_because(third, 409, "revoke one first")

    assert (await stack.client.delete(f"/v1/channels/web/secrets/{old_id}")).status_code == 204

    assert (await place_signed(stack, old, ORDER)).status_code == 401
    assert (await place_signed(stack, new, ORDER)).status_code == 202
    assert (await stack.client.post("/v1/channels/nowhere/secrets")).status_code == 404
    # Issued and revoked secrets are governed actions; the secret itself is never recorded.
    page = await stack.get_json("/v1/audit/chain")
    actions = [e["action"] for e in page["entries"] if e["object_type"] == "partner_secret"]
    assert actions == ["partner_secret.issued", "partner_secret.issued", "partner_secret.revoked"]
    assert not any(old in str(e) or new in str(e) for e in page["entries"])
    assert audit.broken_link(page["entries"], page["head"]) is None


async def test_only_admin_issues_secrets_and_no_token_may_claim_a_partner_role(
    stack: Stack,
) -> None:
    ops = stack.as_person("ops-olga", Role.OPERATIONS)
    assert (await stack.client.post("/v1/channels/web/secrets", headers=ops)).status_code == 403
    # A token cannot make its bearer a channel: only a signature can.
    forged = stack.as_person("web", Role.CHANNEL)
    response = await stack.client.post(
        "/v1/orders", json=ORDER, headers={**forged, "Idempotency-Key": "x"}
    )
    assert refused_because(response, 401, "partner role")


async def _shop(stack: Stack) -> bool:
    response = await stack.client.post("/v1/channels", json=SHOP)
    return response.status_code in (201, 409)


@pytest.mark.parametrize("step", ["verify", "take"])
async def test_a_database_away_while_checking_a_signature_is_a_503_to_retry(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    secret = await secret_for(stack)

    async def away(*_args: Any) -> None:
        raise OperationalError("SELECT", None, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(PartnerVerifier, step, away)
    response = await place_signed(stack, secret, ORDER, webhook_id="msg_away")

    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
