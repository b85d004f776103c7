"""Service tests of the warehouse pages: a location's queue from fulfillment, the next events as
buttons, each form's own event id, and events recorded as the signed-in person; the goods due
and the returned goods, received (and graded) with an Idempotency-Key per form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
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


# --- returned goods ---

RETURNS_PATH = "/v1/returns"
TO_RECEIVE = "7e7urn00-0000-0000-0000-00000000rcv1"
TO_INSPECT = "7e7urn00-0000-0000-0000-00000000isp1"


def a_return(return_id: str, status: str, received: int) -> dict[str, Any]:
    return {
        "return_id": return_id, "order_id": "0rder-7", "channel": "web", "status": status,
        "created_at": "2026-12-07T08:00:00+00:00",
        "lines": [{"sku": "MUG-1", "quantity": 2, "reason": "chipped"},
                  {"sku": "CUP-1", "quantity": 1, "reason": "fit"}],
        "location_id": "WH-1" if received else None,
        "received_at": "2026-12-07T09:00:00+00:00" if received else None,
        "items": [{"sku": "MUG-1", "authorized": 2, "received": received, "graded": []},
                  {"sku": "CUP-1", "authorized": 1, "received": 0, "graded": []}],
        "refunds": [],
    }  # fmt: skip


def returns_by_status(request: httpx.Request) -> dict[str, Any]:
    """Returns' list as it answers each status asked for."""
    if request.url.params["status"] == "authorized":
        return {"items": [a_return(TO_RECEIVE, "authorized", 0)], "next_cursor": None}
    return {"items": [a_return(TO_INSPECT, "received", 2)], "next_cursor": None}


async def returns_page(console: Console) -> tuple[str, str, list[str]]:
    """The returns page at WH-1 as the signed-in person sees it: its text, CSRF token and
    the forms' idempotency keys."""
    console.services.answers[("GET", RETURNS_PATH)] = returns_by_status
    page = await console.client.get("/warehouse/returns", params={"location_id": "WH-1"})
    assert page.status_code == 200, page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return (
        page.text,
        token.group(1),
        re.findall(r'name="idempotency_key" value="([^"]+)"', page.text),
    )


async def test_the_returns_page_lists_returns_to_receive_and_to_inspect(console: Console) -> None:
    await console.sign_in("walt")
    shipments = await console.client.get("/warehouse", params={"location_id": "WH-1"})
    assert 'href="/warehouse/returns?location_id=WH-1"' in shipments.text

    text, _, keys = await returns_page(console)

    asked = [dict(c["url"].params) for c in console.services.calls if c["url"].path == RETURNS_PATH]
    assert asked == [
        {"status": "authorized", "limit": "50"},
        {"status": "received", "location_id": "WH-1", "limit": "100"},
    ]
    assert "Units of MUG-1 that came in (2 authorized)" in text
    assert re.findall(r'name="quantity" type="number" min="0" value="(\d+)"', text)[:2] == [
        "2",
        "1",
    ]
    assert "2 units of MUG-1 received, by grade" in text
    assert "CUP-1 graded" not in text  # none of it came back: nothing to grade
    assert [g for g in "ABCD" if f"MUG-1 graded {g} (" in text] == list("ABCD")
    assert len(set(keys)) == len(keys) == 2  # each form its own


async def test_a_return_is_received_as_counted_with_the_forms_key(console: Console) -> None:
    path = f"{RETURNS_PATH}/{TO_RECEIVE}/receipt"
    console.services.answers[("POST", path)] = a_return(TO_RECEIVE, "received", 1)
    await console.sign_in("walt")
    _, token, (key, _) = await returns_page(console)
    form = {"csrf_token": token, "idempotency_key": key, "sku": ["MUG-1", "CUP-1"],
            "quantity": ["1", "0"]}  # fmt: skip

    response = await console.client.post(f"/warehouse/returns/WH-1/{TO_RECEIVE}/receipt", data=form)

    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/warehouse/returns?location_id=WH-1&recorded=received&return_id={TO_RECEIVE}"
    )
    sent = console.services.calls[-1]
    assert (sent["url"].path, sent["body"], sent["key"]) == (
        path,
        {"location_id": "WH-1", "lines": [{"sku": "MUG-1", "quantity": 1}]},
        key,
    )
    assert sent["claims"]["sub"] == "walt"
    notice = await console.client.get(response.headers["location"])
    assert f"Received return {TO_RECEIVE[-8:]}." in notice.text


async def test_a_received_return_is_graded_with_the_forms_key(console: Console) -> None:
    path = f"{RETURNS_PATH}/{TO_INSPECT}/inspection"
    console.services.answers[("POST", path)] = a_return(TO_INSPECT, "inspected", 2)
    await console.sign_in("walt")
    _, token, (_, key) = await returns_page(console)
    form = {"csrf_token": token, "idempotency_key": key, "sku": ["MUG-1"] * 4,
            "grade": list("ABCD"), "quantity": ["1", "0", "1", "0"]}  # fmt: skip

    response = await console.client.post(
        f"/warehouse/returns/WH-1/{TO_INSPECT}/inspection", data=form
    )

    assert response.headers["location"] == (
        f"/warehouse/returns?location_id=WH-1&recorded=inspected&return_id={TO_INSPECT}"
    )
    sent = console.services.calls[-1]
    assert (sent["url"].path, sent["body"], sent["key"]) == (
        path,
        {"lines": [{"sku": "MUG-1", "quantity": 1, "grade": "A"},
                   {"sku": "MUG-1", "quantity": 1, "grade": "C"}]},
        key,
    )  # fmt: skip


async def test_a_refused_inspection_shows_the_services_detail(console: Console) -> None:
    refusal = "every received unit must be graded: MUG-1 has 2 received, 1 graded"
    console.services.answers[("POST", f"{RETURNS_PATH}/{TO_INSPECT}/inspection")] = (422, refusal)
    await console.sign_in("walt")
    _, token, (_, key) = await returns_page(console)
    form = {"csrf_token": token, "idempotency_key": key, "sku": "MUG-1", "grade": "A",
            "quantity": "1"}  # fmt: skip

    response = await console.client.post(
        f"/warehouse/returns/WH-1/{TO_INSPECT}/inspection", data=form
    )

    assert response.status_code == 422
    assert f"inspect {TO_INSPECT[-8:]}: {refusal}" in response.text
    assert "MUG-1 graded A (restock)" in response.text  # the page, to try again
    nothing = await console.client.post(
        f"/warehouse/returns/WH-1/{TO_RECEIVE}/receipt",
        data={"csrf_token": token, "idempotency_key": "k", "sku": "MUG-1", "quantity": "0"},
    )
    assert nothing.status_code == 422
    assert "count at least one unit" in nothing.text
    assert not [c for c in console.services.calls if c["url"].path.endswith("/receipt")]


@pytest.mark.parametrize("name", ["ann", "cora"])
async def test_other_roles_may_neither_see_returned_goods_nor_record_them(
    console: Console, name: str
) -> None:
    await console.add_user("cora", "customer_service")
    await console.sign_in(name)
    assert (await console.client.get("/warehouse/returns")).status_code == 403
    token = await console.csrf("/orders")
    form = {"csrf_token": token, "idempotency_key": "k", "sku": "MUG-1", "grade": "A",
            "quantity": "1"}  # fmt: skip
    for step in ("receipt", "inspection"):
        response = await console.client.post(f"/warehouse/returns/WH-1/r-1/{step}", data=form)
        assert response.status_code == 403
    assert not [c for c in console.services.calls if c["method"] == "POST"]
