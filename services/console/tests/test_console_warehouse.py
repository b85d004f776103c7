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
    assert console.services.calls[-1]["url"].params["status"] == "open"
    assert console.services.calls[-1]["claims"]["role"] == "warehouse"


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
