"""Service tests: suppliers with their stated and measured lead times, and replenishment
policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from procurement_harness import SUPPLIER, Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

POLICY = {"supplier_id": "ACME", "service_level": "0.95", "min_order_qty": 50, "pack_size": 12}
RECORD = (
    "measured_lead_time_days",
    "lead_time_spread_days",
    "orders_measured",
    "on_time_rate",
    "orders_on_time",
    "fill_rate",
    "fill_orders",
    "units_ordered",
    "units_filled",
)
ALL = [{"sku": "MUG-1", "quantity": 100}, {"sku": "PLATE-2", "quantity": 40}]


async def test_supplier_is_shown_with_its_stated_lead_time(procurement: Procurement) -> None:
    response = await procurement.client.get("/v1/suppliers/ACME")

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in SUPPLIER} == SUPPLIER
    assert {k: body[k] for k in RECORD} == {
        "measured_lead_time_days": None,
        "lead_time_spread_days": None,
        "orders_measured": 0,
        "on_time_rate": None,
        "orders_on_time": 0,
        "fill_rate": None,
        "fill_orders": 0,
        "units_ordered": 0,
        "units_filled": 0,
    }


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


async def _confirmed(procurement: Procurement, *, sent_days_ago: int, promised_after: int) -> str:
    """An order sent `sent_days_ago` and confirmed for `promised_after` days after sending."""
    po_id = await procurement.sent_order()
    sent_at = await procurement.sent_days_ago(po_id, sent_days_ago)
    expected = (sent_at + timedelta(days=promised_after)).date().isoformat()
    await procurement.act(po_id, "confirm", {"expected_date": expected})
    return po_id


async def _deliver(procurement: Procurement, *, sent_days_ago: int, promised_after: int) -> None:
    """An order sent `sent_days_ago`, confirmed for `promised_after` days after sending, and
    received now."""
    po_id = await _confirmed(
        procurement, sent_days_ago=sent_days_ago, promised_after=promised_after
    )
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
    assert body["lead_time_spread_days"] == "1.41"  # sqrt(((3 - 4)^2 + (5 - 4)^2) / (2 - 1))
    assert body["on_time_rate"] == "0.5000"
    assert (body["orders_measured"], body["orders_on_time"]) == (2, 1)
    # Each first arrival (not the later receipts) announced the record as it then stood.
    rated = await procurement.staged("procurement.supplier.v1", key="ACME")
    assert [(e.payload["orders_measured"], e.payload["on_time_rate"]) for e in rated] == [
        (1, "1.0000"),
        (2, "0.5000"),
    ]


async def test_supplier_reliability_is_measured_from_its_own_purchase_orders(
    procurement: Procurement,
) -> None:
    # 3 days, on time; 105 mugs (5 over) fill only the 100 ordered
    on_time = await _confirmed(procurement, sent_days_ago=3, promised_after=4)
    lines = [{"sku": "MUG-1", "quantity": 105}, {"sku": "PLATE-2", "quantity": 40}]
    await procurement.act(on_time, "receipts", {"lines": lines})
    # 5 days, promised for 2 days after sending, then moved to tomorrow: still late
    moved = await _confirmed(procurement, sent_days_ago=5, promised_after=2)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    await procurement.act(moved, "confirm", {"expected_date": tomorrow})
    await procurement.act(moved, "receipts", {"lines": ALL})
    # 10 days, on time, closed short with 70 of its 140 units
    short = await _confirmed(procurement, sent_days_ago=10, promised_after=12)
    await procurement.act(short, "receipts", {"lines": [{"sku": "MUG-1", "quantity": 70}]})
    await procurement.act(short, "close")
    # 6 days, never confirmed (on time by the stated 7 days), still open: not in the fill rate
    still_open = await procurement.sent_order()
    await procurement.sent_days_ago(still_open, 6)
    await procurement.act(still_open, "receipts", {"lines": [{"sku": "MUG-1", "quantity": 1}]})
    # sent and cancelled, never delivered: in no figure
    cancelled = await procurement.sent_order()
    await procurement.act(cancelled, "cancel")

    body = (await procurement.client.get("/v1/suppliers/ACME")).json()

    assert {k: body[k] for k in RECORD} == {
        "measured_lead_time_days": "6.00",  # (3 + 5 + 10 + 6) / 4
        # squared deviations 9 + 1 + 16 + 0 = 26; / (4 - 1), sqrt: 2.9439
        "lead_time_spread_days": "2.94",
        "orders_measured": 4,
        "on_time_rate": "0.7500",
        "orders_on_time": 3,
        "fill_rate": "0.8333",  # (140 + 140 + 70) / (3 x 140)
        "fill_orders": 3,
        "units_ordered": 420,
        "units_filled": 350,
    }
    po = await procurement.po(moved)
    assert po["expected_date"] == tomorrow
    assert po["promised_date"] < datetime.now(UTC).date().isoformat()


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
