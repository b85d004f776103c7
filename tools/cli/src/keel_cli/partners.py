"""Channels and warehouses as the CLI plays them: they sign their requests (Standard Webhooks,
`keel_kit.partners`) instead of sending a token.

A partner's secret is issued once by admin and kept in the stack's state folder
(`data/auth/partners.json`), so a second demo signs with the same secret instead of piling up new
ones; a kept secret the stack no longer knows (its databases were reset) is replaced.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Generator
from pathlib import Path

import httpx

from keel_cli import stack
from keel_kit.partners import partner_name, signature_headers

# What a partner may read, to learn whether the stack still knows its kept secret.
_PROBES = {"channel": "/v1/orders/keel-probe", "warehouse": "/v1/shipments?order_id=keel-probe"}
_ISSUERS = {"channel": "channels", "warehouse": "warehouses"}
LEARN_TIMEOUT_SECONDS = 60.0


class PartnerSigning(httpx.Auth):
    """Signs each request as `partner`, over its body exactly as sent.

    A request's Idempotency-Key becomes its webhook-id (a signed request's idempotency key), so
    a retry of the same request is answered with the first answer, as for staff.
    """

    requires_request_body = True

    def __init__(self, partner: str, secret: str) -> None:
        self._partner = partner
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.pop("authorization", None)
        key = request.headers.pop("idempotency-key", None)
        request.headers.update(
            signature_headers(self._secret, request.content, partner=self._partner, webhook_id=key)
        )
        yield request


async def signing(
    admin: httpx.AsyncClient, kind: str, partner_id: str, state_dir: Path | None = None
) -> PartnerSigning:
    """The signing of partner `kind:partner_id`, with its kept secret or one `admin` (a client
    of the service that owns such partners, signed in as admin) issues now."""
    partner = partner_name(kind, partner_id)
    store = (state_dir or stack.default_state_dir()) / "data" / "auth" / "partners.json"
    kept: dict[str, str] = json.loads(store.read_text()) if store.is_file() else {}
    if partner in kept and await _still_known(admin, kind, PartnerSigning(partner, kept[partner])):
        return PartnerSigning(partner, kept[partner])
    response = await _issue(admin, kind, partner_id)
    if response.status_code != 201:
        raise RuntimeError(f"no secret for {partner}: {response.status_code} {response.text}")
    kept[partner] = response.json()["secret"]
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(kept, indent=2))
    store.chmod(0o600)
    return PartnerSigning(partner, kept[partner])


async def _issue(admin: httpx.AsyncClient, kind: str, partner_id: str) -> httpx.Response:
    """Ask for a secret, waiting a while for a partner the service has not learnt yet (a
    warehouse registered at inventory a moment ago reaches fulfillment through Kafka)."""
    deadline = time.monotonic() + LEARN_TIMEOUT_SECONDS
    while True:
        response = await admin.post(f"/v1/{_ISSUERS[kind]}/{partner_id}/secrets")
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.5)


async def _still_known(admin: httpx.AsyncClient, kind: str, auth: PartnerSigning) -> bool:
    response = await admin.get(_PROBES[kind], auth=auth)
    return response.status_code != 401
