"""Service tests of the exception queue page: every row from the services' own answers (order's
and inventory's in one list), overdue first, buttons only for who may act, each queue paged on
with its own cursor, and a service's refusal shown as it said it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from console_harness import Console, page_problems, running_console

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

NOW = datetime.now(UTC)


def exception(
    number: int, kind: str, owner: str, due_in: timedelta, **extra: Any
) -> dict[str, Any]:
    return {
        "exception_id": f"hold-{number}",
        "hold_id": number,
        "order_id": f"order-{number}",
        "type": kind,
        "reason": f"reason {number}",
        "reference": None,
        "owner_role": owner,
        "priority": "high",
        "rule_set_version": "2026-11",
        "opened_at": (NOW - timedelta(hours=30)).isoformat(),
        "due_at": (NOW + due_in).isoformat(),
        "overdue": due_in < timedelta(0),
        "claimed_by": None,
        "claimed_at": None,
        "resolved_at": None,
        "resolution": None,
        "resolution_note": None,
        "resolved_by": None,
        **extra,
    }


QUEUE = {
    "items": [
        exception(
            1,
            "payment_hold",
            "finance",
            timedelta(hours=-2),
            escalated_to="operations",
            escalated_at=NOW.isoformat(),
        ),
        exception(2, "fraud_review", "customer_service", timedelta(hours=3), claimed_by="kim"),
        exception(3, "limit_review", "operations", timedelta(hours=5)),
    ],
    "next_cursor": "abc",
}
EMPTY: dict[str, Any] = {"items": [], "next_cursor": None}


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with running_console(tmp_path) as console:
        for name, role in (("ann", "operations"), ("fay", "finance"), ("lea", "leadership")):
            await console.add_user(name, role)
        console.services.answers[("GET", "order", "/v1/exceptions")] = QUEUE
        console.services.answers[("GET", "inventory", "/v1/exceptions")] = EMPTY
        yield console


def buttons(html: str) -> list[tuple[str, str]]:
    return re.findall(r'action="/exceptions/order/(hold-\d+)/(\w+)"', html)


async def test_operations_sees_every_exception_with_its_clock_and_actions(console: Console) -> None:
    await console.sign_in("ann")
    page = await console.client.get("/exceptions")
    assert page.status_code == 200
    rows = re.findall(r'<tr id="(hold-\d+)"', page.text)
    assert rows == ["hold-1", "hold-2", "hold-3"]
    assert "overdue by 1 h 59 min" in page.text or "overdue by 2 h 0 min" in page.text
    assert "due in 2 h 59 min" in page.text or "due in 3 h 0 min" in page.text
    assert re.findall(r"escalated to (\w+)", page.text) == ["operations"]  # hold-1 only
    # Kim holds hold-2: operations may still decide it, but not claim it from under her.
    assert buttons(page.text) == [
        ("hold-1", "claim"),
        ("hold-1", "resolve"),
        ("hold-2", "resolve"),
        ("hold-3", "claim"),
        ("hold-3", "resolve"),
    ]
    assert 'href="/exceptions?status=open&amp;order_cursor=abc"' in page.text
    assert [c["url"].params.get("owner_role") for c in console.services.calls] == [None, None]


async def test_finance_sees_its_own_and_leadership_only_reads(console: Console) -> None:
    await console.sign_in("fay")
    page = await console.client.get("/exceptions")
    assert [c["url"].params["owner_role"] for c in console.services.calls] == ["finance"] * 2
    assert ("hold-1", "resolve") in buttons(page.text)
    assert 'id="hold-3"' not in page.text  # operations' own, though the queue answered it

    console.client.cookies.clear()
    await console.sign_in("lea")
    page = await console.client.get("/exceptions")
    assert buttons(page.text) == []
    assert "csrf_token" in page.text  # the sign-out form alone


async def test_a_services_refusal_is_shown_and_nothing_else_happens(console: Console) -> None:
    console.services.answers[("POST", "/v1/exceptions/hold-2/resolve")] = (
        409,
        "hold 2 is claimed by kim: they decide it, or operations unclaims it first",
    )
    await console.sign_in("fay")
    token = await console.csrf()
    response = await console.client.post(
        "/exceptions/order/hold-2/resolve",
        data={"csrf_token": token, "decision": "release", "note": "ok"},
    )
    assert response.status_code == 409
    assert "claimed by kim" in response.text
    (sent,) = [c for c in console.services.calls if c["method"] == "POST"]
    assert sent["service"] == "order"
    assert sent["body"] == {"decision": "release", "note": "ok"}
    assert sent["claims"]["sub"] == "fay"


async def test_a_resolution_posts_the_decision_and_returns_to_the_queue(console: Console) -> None:
    console.services.answers[("POST", "/v1/exceptions/hold-1/resolve")] = {"status": "released"}
    await console.sign_in("ann")
    token = await console.csrf()
    response = await console.client.post(
        "/exceptions/order/hold-1/resolve",
        data={"csrf_token": token, "decision": "release", "note": "issuer confirmed"},
    )
    assert response.status_code == 303
    page = await console.client.get(response.headers["location"])
    assert "Resolved hold-1." in page.text


@pytest.mark.parametrize(
    "target", ["/exceptions/billing/hold-1/claim", "/exceptions/order/..%2Fx/claim"]
)
async def test_only_known_queues_are_posted_to(console: Console, target: str) -> None:
    await console.sign_in("ann")
    token = await console.csrf()
    calls = len(console.services.calls)
    response = await console.client.post(target, data={"csrf_token": token})
    assert response.status_code in (403, 404)
    assert len(console.services.calls) == calls


# --- inventory's exceptions, beside order's ---

STOCK_ID = "0195f000-0000-7000-8000-00000000c0de"
ADJUSTMENT = "0195f000-0000-7000-8000-0000000ad1u5"


def stock_exception(kind: str, due_in: timedelta, **extra: Any) -> dict[str, Any]:
    """One of inventory's: about an adjustment or transfer (`reference`), never an order."""
    item = exception(0, kind, "operations", due_in, **extra)
    del item["hold_id"]
    return item | {
        "exception_id": STOCK_ID,
        "order_id": None,
        "reference": ADJUSTMENT,
        "priority": "normal",
    }


def inventory_queue(console: Console, *items: dict[str, Any], more: str | None = None) -> None:
    console.services.answers[("GET", "inventory", "/v1/exceptions")] = {
        "items": list(items),
        "next_cursor": more,
    }


async def test_inventory_exceptions_are_listed_beside_order_ones(console: Console) -> None:
    inventory_queue(console, stock_exception("count_discrepancy", timedelta(hours=4)))
    await console.sign_in("ann")
    page = await console.client.get("/exceptions")
    assert page.status_code == 200
    rows = re.findall(r'<tr id="([^"]+)"', page.text)
    assert rows == ["hold-1", "hold-2", STOCK_ID, "hold-3"]  # by due time, whoever owns it
    row = page.text.split(f'<tr id="{STOCK_ID}"')[1].split("</tr>")[0]
    assert "count discrepancy" in row
    assert f"inventory {ADJUSTMENT[-8:]}" in row  # what it is about: no order
    assert "/orders/" not in row
    assert re.findall(rf'action="/exceptions/inventory/{STOCK_ID}/(\w+)"', row) == [
        "claim",
        "resolve",
    ]
    assert "release: approve the adjustment" in row
    assert "reject: reject the adjustment" in row
    assert {c["service"] for c in console.services.calls} == {"order", "inventory"}
    assert page_problems(page.text) == []


async def test_an_inventory_exception_is_resolved_at_inventory(console: Console) -> None:
    inventory_queue(console, stock_exception("transfer_discrepancy", timedelta(hours=4)))
    path = f"/v1/exceptions/{STOCK_ID}/resolve"
    console.services.answers[("POST", "inventory", path)] = {"exception_id": STOCK_ID}
    await console.sign_in("ann")
    token = await console.csrf()
    response = await console.client.post(
        f"/exceptions/inventory/{STOCK_ID}/resolve",
        data={"csrf_token": token, "decision": "release", "note": "lost in the van"},
    )
    assert response.status_code == 303
    (sent,) = [c for c in console.services.calls if c["method"] == "POST"]
    assert (sent["service"], sent["url"].path, sent["body"]) == (
        "inventory",
        path,
        {"decision": "release", "note": "lost in the van"},
    )
    assert sent["claims"]["sub"] == "ann"
    page = await console.client.get(response.headers["location"])
    assert f"Resolved {STOCK_ID}." in page.text


async def test_each_queue_pages_on_with_its_own_cursor(console: Console) -> None:
    inventory_queue(console, stock_exception("adjustment_approval", timedelta(hours=4)), more="i-2")
    await console.sign_in("ann")
    page = await console.client.get("/exceptions")
    assert (
        'href="/exceptions?status=open&amp;order_cursor=abc&amp;inventory_cursor=i-2"' in page.text
    )

    inventory_queue(console)  # its last page
    console.services.calls.clear()
    await console.client.get("/exceptions?status=open&inventory_cursor=i-2")
    (asked,) = console.services.calls  # order's first page is not shown again
    assert (asked["service"], asked["url"].params["cursor"]) == ("inventory", "i-2")


async def test_a_queue_that_cannot_be_read_leaves_the_others_shown(console: Console) -> None:
    console.services.answers[("GET", "inventory", "/v1/exceptions")] = (503, "database down")
    await console.sign_in("ann")
    page = await console.client.get("/exceptions")
    assert page.status_code == 200
    assert "Could not read inventory: database down" in page.text
    assert re.findall(r'<tr id="(hold-\d+)"', page.text) == ["hold-1", "hold-2", "hold-3"]


async def test_leadership_reads_inventory_exceptions_without_buttons(console: Console) -> None:
    inventory_queue(console, stock_exception("count_discrepancy", timedelta(hours=-1)))
    await console.sign_in("lea")
    page = await console.client.get("/exceptions")
    assert f'<tr id="{STOCK_ID}" class="overdue"' in page.text
    assert f"/exceptions/inventory/{STOCK_ID}/" not in page.text
