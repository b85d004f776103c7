"""A service calling another as itself, on real processes and the real broker: finance signs its
own token with its key from the stack's keys to read inventory's balances, and inventory lets
each token do only what its principal may, and none that another stack's keys signed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from keel_kit.signing import AUDIENCE, LOCAL_ISSUER, ServiceCredentials, StackKeys
from tests.integration.support import (
    Endpoint,
    StartService,
    eventually,
    journal_entries,
    new_sku,
    people,
    stock,
)

pytestmark = pytest.mark.integration


def as_service(keys: StackKeys, service: str) -> dict[str, str]:
    """The headers a Keel service sends as itself, its token signed with its key among `keys`."""
    credentials = ServiceCredentials(
        service=service, keys=keys, issuer=LOCAL_ISSUER, audience=AUDIENCE
    )
    return credentials.authorization()


def refusal(response: httpx.Response, status: int) -> str:
    """The detail of the guard's problem document, once it is the refusal expected."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return str(response.json()["detail"])


def test_finance_reads_inventory_as_itself_and_inventory_refuses_other_roles_and_other_keys(
    start_service: StartService, tmp_path: Path
) -> None:
    inventory = start_service("inventory")
    finance = start_service("finance", env={"KEEL_FINANCE_INVENTORY_URL": inventory.url})
    sku = new_sku()
    [movement_id] = stock(inventory, sku, {"WH-EAST": 3})
    eventually(lambda: journal_entries(finance, movement_id), what="finance to post the receipt")

    # A 503 naming inventory's answer if inventory refused finance's token; the SKU's quantities
    # agree once both sides have the receipt (they are read moments apart).
    def reconciled() -> dict[str, Any] | None:
        response = finance.as_person(people.FINANCE).get("/v1/reconciliation/inventory")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if sku not in {m["sku"] for m in body["mismatches"]} else None

    assert eventually(reconciled, what="the SKU's quantities to agree")["skus_compared"] >= 1

    # What finance sends: its own principal may read the balances, and nothing else of them.
    finance_itself = as_service(inventory.keys, "finance")
    balances = httpx.get(f"{inventory.url}/v1/balances", headers=finance_itself, timeout=10)
    assert balances.status_code == 200, balances.text
    assert sku in {item["sku"] for item in balances.json()["items"]}
    one = httpx.get(f"{inventory.url}/v1/balances/{sku}", headers=finance_itself, timeout=10)
    detail = refusal(one, 403)
    assert detail == "service:finance (service) may not GET /v1/balances/{sku}"

    # A person whose role the route does not name: customer service reads stock, not its ledger.
    ledger = inventory.as_person(people.CUSTOMER_SERVICE).get("/v1/ledger", sku=sku)
    assert refusal(ledger, 403).endswith("may not GET /v1/ledger")

    # Another stack's keys: neither its finance nor its admin is anyone here.
    other = StackKeys.ensure(tmp_path / "other-stack" / "auth")
    forged = httpx.get(
        f"{inventory.url}/v1/balances", headers=as_service(other, "finance"), timeout=10
    )
    assert "token refused" in refusal(forged, 401)
    stranger = Endpoint(inventory.url, other).get("/v1/balances")
    assert "unknown key" in refusal(stranger, 401)
