"""Service tests of procurement's pages: purchase orders with the two-person rule in view,
approve, send and confirm as the buyer, replenishment run on demand, suppliers' scorecards."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from console_harness import Console, running_console

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def purchase_order(
    po_id: str, status: str, created_by: str, approvers: list[str]
) -> dict[str, Any]:
    return {
        "po_id": po_id, "supplier_id": "ACME", "location_id": "WH-1", "currency": "USD",
        "status": status, "total": "12500.00",
        "lines": [{"sku": "MUG-1", "quantity": 5000, "unit_cost": "2.50", "received_quantity": 0}],
        "approvals_required": 2, "approvers": approvers, "created_by": created_by,
        "created_at": "2026-12-07T08:00:00+00:00", "approved_at": None, "sent_at": None,
        "confirmed_at": None, "expected_date": None, "promised_date": None,
        "first_received_at": None, "received_at": None, "closed_at": None,
    }  # fmt: skip


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with running_console(tmp_path) as console:
        for name, role in (("bea", "procurement"), ("lee", "procurement"), ("lea", "leadership")):
            await console.add_user(name, role)
        console.services.answers[("GET", "/v1/purchase-orders")] = {
            "items": [
                purchase_order("po-bea-draft", "draft", "bea", []),
                purchase_order("po-lee-approved", "draft", "kim", ["lee"]),
            ],
            "next_cursor": None,
        }
        yield console


def approve_buttons(html: str) -> list[str]:
    return re.findall(r'action="/procurement/purchase-orders/([\w-]+)/approve"', html)


async def test_the_two_person_rule_is_in_view(console: Console) -> None:
    landed = await console.sign_in("bea")
    assert landed.headers["location"] == "/procurement"
    page = await console.client.get("/procurement")
    assert "you drafted it: someone else approves" in page.text
    assert approve_buttons(page.text) == ["po-lee-approved"]
    assert "1 of 2: lee" in page.text
    console.client.cookies.clear()
    await console.sign_in("lee")
    page = await console.client.get("/procurement")
    assert approve_buttons(page.text) == ["po-bea-draft"]
    assert "you approved it: it waits for another buyer" in page.text


async def test_the_buyer_approves_and_confirms_a_date(console: Console) -> None:
    answers = console.services.answers
    answers[("POST", "/v1/purchase-orders/po-bea-draft/approve")] = {}
    answers[("POST", "/v1/purchase-orders/po-bea-draft/confirm")] = {}
    await console.sign_in("lee")
    token = await console.csrf("/procurement")
    approved = await console.client.post(
        "/procurement/purchase-orders/po-bea-draft/approve", data={"csrf_token": token}
    )
    assert approved.status_code == 303
    assert console.services.calls[-1]["claims"]["sub"] == "lee"
    confirmed = await console.client.post(
        "/procurement/purchase-orders/po-bea-draft/confirm",
        data={"csrf_token": token, "stage": "sent", "expected_date": "2030-01-15"},
    )
    assert confirmed.status_code == 303
    assert console.services.calls[-1]["body"] == {"expected_date": "2030-01-15"}


async def test_a_run_on_demand_and_the_scorecards(console: Console) -> None:
    answers = console.services.answers
    answers[("POST", "/v1/replenishment-runs")] = {"run_id": "r-1"}
    answers[("GET", "/v1/suggestions")] = {"items": [], "next_cursor": None}
    answers[("GET", "/v1/suppliers")] = {"items": [{
        "supplier_id": "ACME", "name": "Acme", "lead_time_days": 7,
        "created_at": "2026-12-01T00:00:00+00:00", "measured_lead_time_days": "6.5",
        "lead_time_spread_days": "0.7", "on_time_rate": "0.5", "orders_measured": 2,
        "orders_on_time": 1, "fill_rate": "0.95", "fill_orders": 2, "units_ordered": 200,
        "units_filled": 190}], "next_cursor": None}  # fmt: skip
    await console.sign_in("bea")
    page = await console.client.get("/procurement/suggestions")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key is not None
    token = await console.csrf("/procurement/suggestions")
    ran = await console.client.post(
        "/procurement/replenishment-runs",
        data={"csrf_token": token, "idempotency_key": key.group(1)},
    )
    assert ran.headers["location"] == "/procurement/suggestions?ran=true"
    assert console.services.calls[-1]["key"] == key.group(1)
    cards = await console.client.get("/procurement/suppliers")
    assert "6.5 days (± 0.7)" in cards.text
    assert "1 of 2" in cards.text
    assert "190 of 200 units" in cards.text


async def test_leadership_reads_purchase_orders_without_buttons(console: Console) -> None:
    await console.sign_in("lea")
    page = await console.client.get("/procurement")
    assert page.status_code == 200
    assert approve_buttons(page.text) == []
    token = await console.csrf("/procurement")
    refused = await console.client.post(
        "/procurement/purchase-orders/po-bea-draft/approve", data={"csrf_token": token}
    )
    assert refused.status_code == 403


async def test_a_run_the_service_refuses_is_shown_not_a_500(console: Console) -> None:
    console.services.answers[("POST", "/v1/replenishment-runs")] = (503, "the database is busy")
    await console.sign_in("bea")
    token = await console.csrf("/procurement")
    response = await console.client.post(
        "/procurement/replenishment-runs", data={"csrf_token": token, "idempotency_key": "k"}
    )
    assert response.status_code == 502
    assert "procurement: the database is busy" in response.text
