"""Service tests of operations' adjustments page: the adjustments waiting for approval, approved
or rejected as the signed-in person (never by whoever asked for one), a refusal shown as the
service said it, and the stock pages in each role's navigation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from console_harness import Console, page_problems, running_console

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

PATH = "/v1/adjustments"


def pending(name: str, quantity: int, requested_by: str, count_id: str | None) -> dict[str, Any]:
    return {
        "adjustment_id": f"adj00000-0000-7000-8000-{name:0>12}", "status": "pending_approval",
        "sku": "PLATE-1", "location_id": "WH-1", "state": "sellable", "quantity": quantity,
        "reason_code": "count_variance" if count_id else "damage", "count_id": count_id,
        "expected": 10, "value": f"{quantity * 2.5:.2f}", "currency": "USD",
        "requested_by": requested_by, "created_at": "2026-12-07T09:00:00+00:00",
        "decided_by": None, "decided_at": None, "movement_id": None,
    }  # fmt: skip


COUNTED = pending("counted", -8, "walt", "c0un7000-0000-7000-8000-000000done1")
OWN = pending("own", -3, "ann", None)


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with running_console(tmp_path) as console:
        for name, role in (("ann", "operations"), ("walt", "warehouse"),
                           ("lea", "leadership"), ("root", "admin")):  # fmt: skip
            await console.add_user(name, role)
        console.services.answers[("GET", "inventory", PATH)] = {
            "items": [COUNTED, OWN],
            "next_cursor": "n-2",
        }
        yield console


def buttons(html: str) -> list[tuple[str, str]]:
    found = re.findall(r'action="/adjustments/([^"/]+)/(\w+)"', html)
    return [(a[-12:].lstrip("0"), decision) for a, decision in found]


async def test_operations_sees_what_waits_for_approval(console: Console) -> None:
    await console.sign_in("ann")
    page = await console.client.get("/adjustments")
    assert page.status_code == 200
    (asked,) = console.services.calls
    assert (asked["service"], dict(asked["url"].params)) == (
        "inventory",
        {"status": "pending_approval", "limit": "50"},
    )
    assert buttons(page.text) == [("counted", "approve"), ("counted", "reject")]
    assert "you asked for it: someone else decides" in page.text  # ann's own
    assert f'href="/warehouse/counts/{COUNTED["count_id"]}"' in page.text
    assert "-20.00 USD" in page.text
    assert 'href="/adjustments?cursor=n-2"' in page.text
    keys = re.findall(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert len(set(keys)) == len(keys) == 2
    assert page_problems(page.text) == []


@pytest.mark.parametrize("decision", ["approve", "reject"])
async def test_a_decision_is_posted_as_the_person(console: Console, decision: str) -> None:
    path = f"{PATH}/{COUNTED['adjustment_id']}/{decision}"
    console.services.answers[("POST", "inventory", path)] = COUNTED
    await console.sign_in("ann")
    token = await console.csrf("/adjustments")
    response = await console.client.post(
        f"/adjustments/{COUNTED['adjustment_id']}/{decision}",
        data={"csrf_token": token, "idempotency_key": "k-1"},
    )
    assert response.status_code == 303
    sent = console.services.calls[-1]
    assert (sent["url"].path, sent["key"], sent["claims"]["sub"]) == (path, "k-1", "ann")
    page = await console.client.get(response.headers["location"])
    done = "Approved" if decision == "approve" else "Rejected"
    assert f"{done} adjustment {COUNTED['adjustment_id'][-8:]}." in page.text


async def test_a_refused_approval_shows_the_services_detail(console: Console) -> None:
    refusal = "3 PLATE-1 at WH-1 are reserved for orders: ship or release them first"
    path = f"{PATH}/{COUNTED['adjustment_id']}/approve"
    console.services.answers[("POST", "inventory", path)] = (409, refusal)
    await console.sign_in("ann")
    token = await console.csrf("/adjustments")
    response = await console.client.post(
        f"/adjustments/{COUNTED['adjustment_id']}/approve",
        data={"csrf_token": token, "idempotency_key": "k-1"},
    )
    assert response.status_code == 409
    assert f"approve {COUNTED['adjustment_id'][-8:]}: {refusal}" in response.text
    assert ("counted", "approve") in buttons(response.text)  # the queue, to decide again


@pytest.mark.parametrize("name", ["walt", "lea"])
async def test_other_roles_neither_see_nor_decide_adjustments(console: Console, name: str) -> None:
    await console.sign_in(name)
    assert (await console.client.get("/adjustments")).status_code == 403
    token = await console.csrf("/warehouse" if name == "walt" else "/leadership")
    response = await console.client.post(
        f"/adjustments/{COUNTED['adjustment_id']}/approve",
        data={"csrf_token": token, "idempotency_key": "k"},
    )
    assert response.status_code == 403
    assert not [c for c in console.services.calls if c["method"] == "POST"]


def navigation(html: str) -> list[str]:
    return re.findall(r'<li><a href="([^"]+)"', html)


@pytest.mark.parametrize(
    ("name", "home", "stock_pages"),
    [
        ("ann", "/adjustments", ["/adjustments", "/warehouse/counts", "/warehouse/transfers"]),
        ("walt", "/warehouse/transfers", ["/warehouse/counts", "/warehouse/transfers"]),
        ("root", "/adjustments", ["/warehouse/counts", "/warehouse/transfers", "/adjustments"]),
    ],
)
async def test_the_stock_pages_are_in_the_navigation_of_who_uses_them(
    console: Console, name: str, home: str, stock_pages: list[str]
) -> None:
    console.services.answers[("GET", "inventory", "/v1/transfers")] = {
        "items": [],
        "next_cursor": None,
    }
    await console.sign_in(name)
    page = await console.client.get(home)
    assert page.status_code == 200
    shown = navigation(page.text)
    assert [p for p in shown if p in stock_pages] == stock_pages
    assert f'<a href="{home}" aria-current="page">' in page.text


@pytest.mark.parametrize(
    "target",
    [
        "/adjustments/a.b/approve",
        "/warehouse/counts/a:b/results",
        "/warehouse/transfers/a.b/approve",
    ],
)
async def test_only_plain_ids_reach_inventorys_paths(console: Console, target: str) -> None:
    await console.sign_in("root")
    token = await console.csrf("/adjustments")
    calls = len(console.services.calls)
    form = {"csrf_token": token, "idempotency_key": "k", "sku": "MUG-1", "counted": "1"}
    response = await console.client.post(target, data=form)
    assert response.status_code == 403
    assert len(console.services.calls) == calls
