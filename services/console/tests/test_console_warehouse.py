"""Service tests of the warehouse page: a location's queue from fulfillment, the next events as
buttons, each form's own event id, and events recorded as the signed-in person."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from console_harness import Console, running_console

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

QUEUE_PATH = "/v1/warehouses/WH-1/shipments"


def shipment(number: int, status: str, next_events: list[str]) -> dict[str, Any]:
    return {
        "shipment_id": f"5h1pment-{number:04d}-0000-0000-000000000000",
        "order_id": f"0rder-{number}",
        "location_id": "WH-1",
        "status": status,
        "carrier": None,
        "tracking_number": None,
        "created_at": "2026-12-07T08:00:00+00:00",
        "next_events": next_events,
        "lines": [{"sku": "MUG-1", "quantity": 2}],
    }


INBOUND = {
    "po_id": "po-0001", "supplier_id": "ACME", "location_id": "WH-1", "currency": "USD",
    "status": "partially_received", "total": "100.00", "approvals_required": 1,
    "approvers": ["lee"], "created_by": "bea", "created_at": "2026-12-07T08:00:00+00:00",
    "expected_date": "2026-12-09",
    "lines": [
        {"sku": "MUG-1", "quantity": 20, "unit_cost": "2.50", "received_quantity": 20},
        {"sku": "PLATE-1", "quantity": 20, "unit_cost": "2.50", "received_quantity": 5},
    ],
}  # fmt: skip


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with running_console(tmp_path) as console:
        await console.add_user("walt", "warehouse")
        await console.add_user("ann", "operations")
        console.services.answers[("GET", QUEUE_PATH)] = {
            "items": [
                shipment(1, "created", ["picked", "packed", "shipped"]),
                shipment(2, "packed", ["shipped"]),
            ],
            "next_cursor": None,
        }
        console.services.answers[("GET", "/v1/purchase-orders")] = {
            "items": [INBOUND],
            "next_cursor": None,
        }
        yield console


async def test_the_queue_shows_each_shipments_next_events(console: Console) -> None:
    await console.sign_in("walt")
    page = await console.client.get("/warehouse", params={"location_id": "WH-1"})
    assert page.status_code == 200
    assert re.findall(r'name="type" value="(\w+)"', page.text) == [
        "picked",
        "packed",
        "shipped",
        "shipped",
    ]
    event_ids = re.findall(r'name="event_id" value="([^"]+)"', page.text)
    assert len(set(event_ids)) == 4  # each form its own
    (queue,) = [c for c in console.services.calls if c["url"].path == QUEUE_PATH]
    assert queue["url"].params["status"] == "open"
    assert queue["claims"]["role"] == "warehouse"


async def test_shipping_sends_the_event_with_carrier_and_tracking(console: Console) -> None:
    path = "/v1/warehouses/WH-1/events"
    console.services.answers[("POST", path)] = {"status": "shipped"}
    await console.sign_in("walt")
    token = await console.csrf("/warehouse?location_id=WH-1")
    form = {
        "csrf_token": token,
        "event_id": "form-1-shipped",
        "type": "shipped",
        "shipment_id": "s-2",
        "carrier": " UPS ",
        "tracking_number": "1Z999",
    }
    response = await console.client.post("/warehouse/WH-1/events", data=form)
    assert response.status_code == 303
    assert response.headers["location"] == "/warehouse?location_id=WH-1&recorded=shipped"
    sent = console.services.calls[-1]
    assert sent["body"] == {
        "event_id": "form-1-shipped",
        "type": "shipped",
        "shipment_id": "s-2",
        "carrier": "UPS",
        "tracking_number": "1Z999",
    }
    assert sent["claims"]["sub"] == "walt"


async def test_operations_has_no_warehouse_page_nor_its_events(console: Console) -> None:
    await console.sign_in("ann")
    assert (await console.client.get("/warehouse")).status_code == 403
    token = await console.csrf("/orders")
    form = {"csrf_token": token, "event_id": "e", "type": "picked", "shipment_id": "s-1"}
    response = await console.client.post("/warehouse/WH-1/events", data=form)
    assert response.status_code == 403
    assert not [c for c in console.services.calls if c["method"] == "POST"]


async def test_the_goods_due_are_received_as_counted(console: Console) -> None:
    path = "/v1/purchase-orders/po-0001/receipts"
    console.services.answers[("POST", path)] = {"receipt_id": "r-1"}
    await console.sign_in("walt")
    page = await console.client.get("/warehouse", params={"location_id": "WH-1"})
    asked = [c for c in console.services.calls if c["url"].path == "/v1/purchase-orders"]
    assert dict(asked[-1]["url"].params) == {
        "receivable": "true",
        "location_id": "WH-1",
        "limit": "100",
    }
    assert "Units of PLATE-1 counted (5 of 20 in so far)" in page.text
    assert "Units of MUG-1" not in page.text  # all of it is in
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert key is not None
    assert token is not None
    form = {"csrf_token": token.group(1), "idempotency_key": key.group(1), "sku": "PLATE-1",
            "quantity": "15"}  # fmt: skip
    response = await console.client.post(
        "/warehouse/WH-1/purchase-orders/po-0001/receipts", data=form
    )
    assert response.headers["location"] == "/warehouse?location_id=WH-1&recorded=received"
    sent = console.services.calls[-1]
    assert (sent["body"], sent["key"]) == (
        {"lines": [{"sku": "PLATE-1", "quantity": 15}]},
        key.group(1),
    )
    nothing = await console.client.post(
        "/warehouse/WH-1/purchase-orders/po-0001/receipts",
        data={**form, "quantity": "0"},
    )
    assert nothing.status_code == 422
    assert "count at least one unit" in nothing.text
