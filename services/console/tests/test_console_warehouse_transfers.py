"""Service tests of the transfers page: the warehouse ships the approved transfers leaving its
location and receives, as counted, those coming to it; operations approves the requested ones
and requests more; each as the signed-in person, with the form's Idempotency-Key, each refusal
shown as the service said it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from console_harness import Console, page_problems, running_console

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

PATH = "/v1/transfers"


def transfer(name: str, status: str, source: str, destination: str, **extra: Any) -> dict[str, Any]:
    return {
        "transfer_id": f"7ransfer-0000-7000-8000-{name:0>12}", "status": status, "sku": "MUG-1",
        "from_location_id": source, "to_location_id": destination, "quantity": 5, "received": 0,
        "in_transit": 5 if status == "shipped" else 0, "written_off": 0, "requested_by": "ann",
        "approved_by": None if status == "requested" else "olga",
        "created_at": "2026-12-07T08:00:00+00:00", "shipped_at": None, "received_at": None,
        **extra,
    }  # fmt: skip


REQUESTED = transfer("requested", "requested", "WH-1", "WH-2")
TO_SHIP = transfer("toship", "approved", "WH-1", "WH-2")
COMING = transfer("coming", "shipped", "WH-2", "WH-1", shipped_at="2026-12-07T10:00:00+00:00")
PARTLY = transfer("partly", "partially_received", "WH-3", "WH-1", received=3, in_transit=2)
BY_STATUS = {
    "requested": [REQUESTED],
    "approved": [TO_SHIP, transfer("elsewhere", "approved", "WH-3", "WH-1")],
    "shipped": [COMING, transfer("notours", "shipped", "WH-1", "WH-2")],
    "partially_received": [PARTLY],
}


def transfers_by_status(request: httpx.Request) -> dict[str, Any]:
    return {"items": BY_STATUS[request.url.params["status"]], "next_cursor": None}


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with running_console(tmp_path) as console:
        for name, role in (("walt", "warehouse"), ("ann", "operations"),
                           ("cora", "customer_service")):  # fmt: skip
            await console.add_user(name, role)
        console.services.answers[("GET", "inventory", PATH)] = transfers_by_status
        yield console


def transfer_rows(html: str) -> list[str]:
    return [t[-12:].lstrip("0") for t in re.findall(r'<tr id="transfer-([^"]+)"', html)]


def buttons(html: str) -> list[tuple[str, str]]:
    found = re.findall(r'action="/warehouse/transfers/([^"/]+)/(\w+)"', html)
    return [(t[-12:].lstrip("0"), action) for t, action in found]


async def page_of(console: Console, location_id: str | None = "WH-1") -> tuple[str, str, list[str]]:
    """The transfers page as the signed-in person sees it: its text, CSRF token and keys."""
    params = {"location_id": location_id} if location_id else {}
    page = await console.client.get("/warehouse/transfers", params=params)
    assert page.status_code == 200, page.text
    assert page_problems(page.text) == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return (
        page.text,
        token.group(1),
        re.findall(r'name="idempotency_key" value="([^"]+)"', page.text),
    )


async def test_the_warehouse_sees_what_leaves_and_what_comes_to_its_location(
    console: Console,
) -> None:
    await console.sign_in("walt")
    text, _, keys = await page_of(console)
    asked = [dict(c["url"].params) for c in console.services.calls if c["url"].path == PATH]
    assert asked == [
        {"status": "approved", "from_location_id": "WH-1", "limit": "200"},
        {"status": "shipped", "to_location_id": "WH-1", "limit": "200"},
        {"status": "partially_received", "to_location_id": "WH-1", "limit": "200"},
    ]
    assert transfer_rows(text) == ["toship", "coming", "partly"]
    assert buttons(text) == [("toship", "ship"), ("coming", "receive"), ("partly", "receive")]
    assert "Units counted (5 in transit)" in text
    assert "Units counted (2 in transit)" in text
    assert "3 of 5 in so far" in text
    assert "Waiting for approval" not in text  # operations' part
    assert "Request a transfer" not in text
    assert len(set(keys)) == len(keys) == 3  # each form its own


async def test_a_transfer_is_shipped_and_received_as_counted(console: Console) -> None:
    shipped = f"{PATH}/{TO_SHIP['transfer_id']}/ship"
    received = f"{PATH}/{COMING['transfer_id']}/receive"
    console.services.answers[("POST", "inventory", shipped)] = TO_SHIP
    console.services.answers[("POST", "inventory", received)] = COMING
    await console.sign_in("walt")
    _, token, keys = await page_of(console)
    receive = f"/warehouse/transfers/{COMING['transfer_id']}/receive"
    form = {"csrf_token": token, "idempotency_key": keys[1], "location_id": "WH-1",
            "quantity": "4"}  # fmt: skip

    response = await console.client.post(receive, data=form)

    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/warehouse/transfers?location_id=WH-1&done=receive&transfer_id={COMING['transfer_id']}"
    )
    sent = console.services.calls[-1]
    assert (sent["url"].path, sent["body"], sent["key"]) == (received, {"quantity": 4}, keys[1])
    assert sent["claims"]["sub"] == "walt"
    notice = await console.client.get(response.headers["location"])
    assert f"Received transfer {COMING['transfer_id'][-8:]}." in notice.text

    form = {"csrf_token": token, "idempotency_key": keys[0], "location_id": "WH-1"}
    response = await console.client.post(
        f"/warehouse/transfers/{TO_SHIP['transfer_id']}/ship", data=form
    )
    assert response.status_code == 303
    sent = console.services.calls[-1]
    assert (sent["url"].path, sent["body"], sent["key"]) == (shipped, None, keys[0])


async def test_a_refused_shipment_shows_the_services_detail(console: Console) -> None:
    refusal = "WH-1 has 2 MUG-1 free to ship (the rest is reserved or not there)"
    path = f"{PATH}/{TO_SHIP['transfer_id']}/ship"
    console.services.answers[("POST", "inventory", path)] = (409, refusal)
    await console.sign_in("walt")
    _, token, keys = await page_of(console)
    form = {"csrf_token": token, "idempotency_key": keys[0], "location_id": "WH-1"}
    response = await console.client.post(
        f"/warehouse/transfers/{TO_SHIP['transfer_id']}/ship", data=form
    )
    assert response.status_code == 409
    assert f"ship {TO_SHIP['transfer_id'][-8:]}: {refusal}" in response.text
    assert ("toship", "ship") in buttons(response.text)  # the page, to try again
    nothing = await console.client.post(
        f"/warehouse/transfers/{COMING['transfer_id']}/receive", data={**form, "quantity": "0"}
    )
    assert nothing.status_code == 422
    assert "count at least one unit" in nothing.text


async def test_operations_approves_and_requests_transfers(console: Console) -> None:
    approve = f"{PATH}/{REQUESTED['transfer_id']}/approve"
    console.services.answers[("POST", "inventory", approve)] = REQUESTED
    made = transfer("new", "requested", "WH-1", "WH-9")
    console.services.answers[("POST", "inventory", PATH)] = made
    await console.sign_in("ann")
    text, token, keys = await page_of(console, location_id=None)
    assert [dict(c["url"].params) for c in console.services.calls] == [
        {"status": "requested", "limit": "200"}
    ]
    assert buttons(text) == [("requested", "approve")]
    assert "To ship from" not in text  # the warehouse's part
    form = {"csrf_token": token, "idempotency_key": keys[0]}

    response = await console.client.post(
        f"/warehouse/transfers/{REQUESTED['transfer_id']}/approve", data=form
    )

    assert response.headers["location"] == (
        f"/warehouse/transfers?done=approve&transfer_id={REQUESTED['transfer_id']}"
    )
    assert (console.services.calls[-1]["url"].path, console.services.calls[-1]["body"]) == (
        approve,
        None,
    )
    form = {"csrf_token": token, "idempotency_key": keys[1], "sku": " MUG-1 ",
            "from_location_id": "WH-1", "to_location_id": "WH-9", "quantity": "5"}  # fmt: skip
    response = await console.client.post("/warehouse/transfers", data=form)
    assert response.status_code == 303
    sent = console.services.calls[-1]
    assert (sent["url"].path, sent["key"], sent["claims"]["sub"]) == (PATH, keys[1], "ann")
    assert sent["body"] == {"sku": "MUG-1", "from_location_id": "WH-1", "to_location_id": "WH-9",
                            "quantity": 5}  # fmt: skip
    notice = await console.client.get(response.headers["location"])
    assert f"Requested transfer {made['transfer_id'][-8:]}." in notice.text


async def test_each_role_keeps_to_its_own_steps(console: Console) -> None:
    await console.sign_in("ann")
    _, token, _ = await page_of(console, location_id=None)
    form = {"csrf_token": token, "idempotency_key": "k", "quantity": "1", "sku": "MUG-1",
            "from_location_id": "WH-1", "to_location_id": "WH-2"}  # fmt: skip
    for action in ("ship", "receive"):
        refused = await console.client.post(f"/warehouse/transfers/t-1/{action}", data=form)
        assert refused.status_code == 403
    console.client.cookies.clear()
    await console.sign_in("walt")
    _, token, _ = await page_of(console)
    form["csrf_token"] = token
    for path in ("/warehouse/transfers/t-1/approve", "/warehouse/transfers"):
        assert (await console.client.post(path, data=form)).status_code == 403
    console.client.cookies.clear()
    await console.sign_in("cora")
    assert (await console.client.get("/warehouse/transfers")).status_code == 403
    assert not [c for c in console.services.calls if c["method"] == "POST"]
