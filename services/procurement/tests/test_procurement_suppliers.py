"""Service tests: suppliers with their stated and measured lead times, and replenishment
policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keel_procurement.models import PurchaseOrder
from procurement_harness import SUPPLIER, Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

POLICY = {"supplier_id": "ACME", "service_level": "0.95", "min_order_qty": 50, "pack_size": 12}


async def test_supplier_is_shown_with_its_stated_lead_time(procurement: Procurement) -> None:
    response = await procurement.client.get("/v1/suppliers/ACME")

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in SUPPLIER} == SUPPLIER
    assert (body["measured_lead_time_days"], body["on_time_rate"], body["orders_measured"]) == (
        None,
        None,
        0,
    )


async def test_second_registration_of_a_supplier_is_a_conflict(procurement: Procurement) -> None:
    again = await procurement.client.post("/v1/suppliers", json=SUPPLIER)

    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["errors"][0]["field"] == "supplier_id"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lead_time_days": -1}, "lead_time_days"),
        ({"lead_time_days": "soon"}, "lead_time_days"),
        ({"name": ""}, "name"),
        ({"supplier_id": "has space"}, "supplier_id"),
    ],
)
async def test_bad_supplier_is_refused_naming_the_field(
    procurement: Procurement, changes: dict[str, Any], field: str
) -> None:
    body = {**SUPPLIER, "supplier_id": "OTHER", **changes}

    response = await procurement.client.post("/v1/suppliers", json=body)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_supplier_registration_replays_under_the_same_key(procurement: Procurement) -> None:
    body = {**SUPPLIER, "supplier_id": "GLOBEX"}
    headers = {"Idempotency-Key": "globex"}

    first = await procurement.client.post("/v1/suppliers", json=body, headers=headers)
    again = await procurement.client.post("/v1/suppliers", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_unknown_supplier_is_not_found(procurement: Procurement) -> None:
    assert (await procurement.client.get("/v1/suppliers/NOBODY")).status_code == 404


async def _deliver(procurement: Procurement, *, sent_days_ago: int, promised_after: int) -> None:
    """An order sent `sent_days_ago`, confirmed for `promised_after` days after sending, and
    received now."""
    po_id = await procurement.sent_order()
    sent_at = datetime.now(UTC) - timedelta(days=sent_days_ago)
    async with procurement.runtime.db.transaction() as session:
        po = await session.get(PurchaseOrder, po_id)
        assert po is not None
        po.sent_at = sent_at
        session.add(po)
    expected = (sent_at + timedelta(days=promised_after)).date().isoformat()
    await procurement.act(po_id, "confirm", {"expected_date": expected})
    await procurement.act(po_id, "receipts", {"lines": [{"sku": "MUG-1", "quantity": 100}]})
    # A later receipt on the same order does not move its arrival.
    await procurement.act(po_id, "receipts", {"lines": [{"sku": "PLATE-2", "quantity": 40}]})


async def test_supplier_lead_time_and_on_time_rate_are_measured_from_receipts(
    procurement: Procurement,
) -> None:
    await _deliver(procurement, sent_days_ago=3, promised_after=4)  # 3 days, on time
    await _deliver(procurement, sent_days_ago=5, promised_after=2)  # 5 days, 3 days late

    body = (await procurement.client.get("/v1/suppliers/ACME")).json()

    assert body["lead_time_days"] == 7
    assert body["measured_lead_time_days"] == "4.00"
    assert body["on_time_rate"] == "0.5000"
    assert body["orders_measured"] == 2


async def test_policy_is_stored_and_replaced(procurement: Procurement) -> None:
    first = await procurement.client.put("/v1/policies/MUG-1/WH-EAST", json=POLICY)
    changed = {**POLICY, "service_level": 0.99, "pack_size": 24}
    second = await procurement.client.put("/v1/policies/MUG-1/WH-EAST", json=changed)

    assert (first.status_code, second.status_code) == (200, 200)
    stored = (await procurement.client.get("/v1/policies/MUG-1/WH-EAST")).json()
    assert {k: stored[k] for k in ("sku", "location_id", "supplier_id")} == {
        "sku": "MUG-1",
        "location_id": "WH-EAST",
        "supplier_id": "ACME",
    }
    assert (stored["service_level"], stored["min_order_qty"], stored["pack_size"]) == (
        "0.9900",
        50,
        24,
    )


async def test_missing_policy_is_not_found(procurement: Procurement) -> None:
    assert (await procurement.client.get("/v1/policies/MUG-1/WH-EAST")).status_code == 404


@pytest.mark.parametrize(
    ("path", "changes", "field"),
    [
        ("NOPE/WH-EAST", {}, "sku"),
        ("MUG-1/WH-NOWHERE", {}, "location_id"),
        ("MUG-1/WH-EAST", {"supplier_id": "NOBODY"}, "supplier_id"),
        ("MUG-1/WH-EAST", {"service_level": 1}, "service_level"),
        ("MUG-1/WH-EAST", {"service_level": 0}, "service_level"),
        ("MUG-1/WH-EAST", {"min_order_qty": 0}, "min_order_qty"),
        ("MUG-1/WH-EAST", {"pack_size": -6}, "pack_size"),
    ],
)
async def test_bad_policy_is_refused_naming_the_field(
    procurement: Procurement, path: str, changes: dict[str, Any], field: str
) -> None:
    response = await procurement.client.put(f"/v1/policies/{path}", json={**POLICY, **changes})

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    sku, location_id = path.split("/")
    assert (await procurement.client.get(f"/v1/policies/{sku}/{location_id}")).status_code == 404
