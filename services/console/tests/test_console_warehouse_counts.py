"""Service tests of the cycle count pages: a location's open counts, counted blind (never an
expected quantity, whatever inventory answers), the results posted with the form's
Idempotency-Key and shown with each variance and its adjustment, and a count started by
operations or the warehouse."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from console_harness import Console, page_problems, running_console

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

OPEN = "c0un7000-0000-7000-8000-0000000open1"
COUNTED = "c0un7000-0000-7000-8000-000000done1"
# What the ledger holds, as a misbehaving service might leak it into an open count.
LEAKED = 937


def a_count(count_id: str, location_id: str, status: str = "open") -> dict[str, Any]:
    lines = [
        {"sku": sku, "expected": LEAKED, "counted": None, "variance": None,
         "within_tolerance": None}
        for sku in ("MUG-1", "PLATE-1")
    ]  # fmt: skip
    return {
        "count_id": count_id, "status": status, "location_id": location_id,
        "created_by": "ann", "created_at": "2026-12-07T08:00:00+00:00", "counted_by": None,
        "counted_at": None, "lines": lines, "adjustments": [],
    }  # fmt: skip


def adjustment(sku: str, quantity: int, status: str) -> dict[str, Any]:
    return {
        "adjustment_id": f"adj-{sku}", "status": status, "sku": sku, "location_id": "WH-1",
        "state": "sellable", "quantity": quantity, "reason_code": "count_variance",
        "count_id": COUNTED, "expected": 10, "value": f"{quantity * 2.5:.2f}", "currency": "USD",
        "requested_by": "walt", "created_at": "2026-12-07T09:00:00+00:00", "decided_by": None,
        "decided_at": None, "movement_id": None,
    }  # fmt: skip


def counted() -> dict[str, Any]:
    """The count once walt posted it: MUG-1 one short (applied), PLATE-1 eight short (pending),
    CUP-1 as expected."""
    count = a_count(COUNTED, "WH-1", "counted")
    count["counted_by"], count["counted_at"] = "walt", "2026-12-07T09:00:00+00:00"
    count["lines"] = [
        {"sku": "CUP-1", "expected": 4, "counted": 4, "variance": 0, "within_tolerance": True},
        {"sku": "MUG-1", "expected": 10, "counted": 9, "variance": -1, "within_tolerance": True},
        {"sku": "PLATE-1", "expected": 10, "counted": 2, "variance": -8,
         "within_tolerance": False},
    ]  # fmt: skip
    count["adjustments"] = [
        adjustment("MUG-1", -1, "applied"),
        adjustment("PLATE-1", -8, "pending_approval"),
    ]
    return count


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with running_console(tmp_path) as console:
        for name, role in (("walt", "warehouse"), ("ann", "operations"),
                           ("cora", "customer_service"), ("fay", "finance")):  # fmt: skip
            await console.add_user(name, role)
        console.services.answers[("GET", "inventory", "/v1/counts")] = {
            "items": [a_count(OPEN, "WH-1"), a_count("c-elsewhere", "WH-2")],
            "next_cursor": None,
        }
        console.services.answers[("GET", "inventory", f"/v1/counts/{OPEN}")] = a_count(OPEN, "WH-1")
        console.services.answers[("GET", "inventory", f"/v1/counts/{COUNTED}")] = counted()
        yield console


def form_fields(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]+)"', html)


async def test_the_open_counts_at_the_location_are_counted_blind(console: Console) -> None:
    await console.sign_in("walt")
    page = await console.client.get("/warehouse/counts", params={"location_id": "WH-1"})
    assert page.status_code == 200
    (asked,) = [c for c in console.services.calls if c["url"].path == "/v1/counts"]
    assert dict(asked["url"].params) == {"status": "open", "location_id": "WH-1", "limit": "200"}
    assert f'id="count-{OPEN}"' in page.text
    assert "c-elsewhere" not in page.text  # WH-2's
    assert "Units of MUG-1 counted" in page.text
    assert "Units of PLATE-1 counted" in page.text
    assert str(LEAKED) not in page.text
    assert (
        re.findall(r'<input id="counted-[^"]+" name="counted" ([^>]*)>', page.text)
        == ['type="number" min="0" required'] * 2
    )  # nothing filled in for the counter
    assert page_problems(page.text) == []


async def test_an_open_counts_own_page_is_blind_too(console: Console) -> None:
    await console.sign_in("ann")
    page = await console.client.get(f"/warehouse/counts/{OPEN}")
    assert page.status_code == 200
    assert "Waiting for the warehouse to count MUG-1, PLATE-1." in page.text
    assert '<a href="/warehouse/counts" aria-current="page">' in page.text
    assert str(LEAKED) not in page.text
    assert 'name="counted"' not in page.text  # operations does not count
    assert page_problems(page.text) == []


async def test_a_count_is_posted_with_the_forms_key_and_its_variances_shown(
    console: Console,
) -> None:
    path = f"/v1/counts/{COUNTED}/results"
    console.services.answers[("POST", "inventory", path)] = counted()
    await console.sign_in("walt")
    page = await console.client.get("/warehouse/counts", params={"location_id": "WH-1"})
    (token,) = set(form_fields(page.text, "csrf_token"))
    (key, _start) = form_fields(page.text, "idempotency_key")
    form = {"csrf_token": token, "idempotency_key": key, "sku": ["CUP-1", "MUG-1", "PLATE-1"],
            "counted": ["4", "9", "0"]}  # fmt: skip

    response = await console.client.post(f"/warehouse/counts/{COUNTED}/results", data=form)

    assert response.status_code == 303
    assert response.headers["location"] == f"/warehouse/counts/{COUNTED}?recorded=counted"
    sent = console.services.calls[-1]
    assert (sent["service"], sent["url"].path, sent["key"]) == ("inventory", path, key)
    assert sent["body"] == {"lines": [{"sku": "CUP-1", "counted": 4},
                                      {"sku": "MUG-1", "counted": 9},
                                      {"sku": "PLATE-1", "counted": 0}]}  # fmt: skip
    assert sent["claims"]["sub"] == "walt"
    result = await console.client.get(response.headers["location"])
    assert f"Posted count {COUNTED[-8:]}." in result.text
    rows = dict(re.findall(r'<tr id="line-([\w-]+)">(.*?)</tr>', result.text, re.S))
    assert "nothing to adjust" in rows["CUP-1"]
    assert "-1" in rows["MUG-1"]
    assert "applied (within tolerance)" in rows["MUG-1"]
    assert "-8" in rows["PLATE-1"]
    assert "waits for approval by operations" in rows["PLATE-1"]
    assert page_problems(result.text) == []


async def test_a_refused_count_shows_the_services_detail(console: Console) -> None:
    refusal = "every SKU of the count is counted: PLATE-1 is not"
    console.services.answers[("POST", "inventory", f"/v1/counts/{OPEN}/results")] = (422, refusal)
    await console.sign_in("walt")
    token = await console.csrf(f"/warehouse/counts/{OPEN}")
    form = {"csrf_token": token, "idempotency_key": "k-1", "sku": "MUG-1", "counted": "3"}
    response = await console.client.post(f"/warehouse/counts/{OPEN}/results", data=form)
    assert response.status_code == 422
    assert f"post count {OPEN[-8:]}: {refusal}" in response.text
    assert "Units of PLATE-1 counted" in response.text  # the form again, to count it
    assert str(LEAKED) not in response.text


async def test_operations_starts_a_count_but_does_not_post_one(console: Console) -> None:
    console.services.answers[("POST", "inventory", "/v1/counts")] = a_count("c-new", "WH-1")
    await console.sign_in("ann")
    page = await console.client.get("/warehouse/counts", params={"location_id": "WH-1"})
    assert 'name="counted"' not in page.text
    assert f"/warehouse/counts/{OPEN}/results" not in page.text
    assert "To count: MUG-1, PLATE-1" in page.text
    assert page_problems(page.text) == []
    assert "SKUs to count" in page.text
    (token,) = set(form_fields(page.text, "csrf_token"))
    (key,) = form_fields(page.text, "idempotency_key")
    form = {"csrf_token": token, "idempotency_key": key, "location_id": "WH-1",
            "skus": "MUG-1, PLATE-1\nMUG-1  CUP-1"}  # fmt: skip

    response = await console.client.post("/warehouse/counts", data=form)

    assert response.headers["location"] == "/warehouse/counts?location_id=WH-1&started=c-new"
    sent = console.services.calls[-1]
    assert (sent["body"], sent["key"]) == (
        {"location_id": "WH-1", "skus": ["MUG-1", "PLATE-1", "CUP-1"]},
        key,
    )
    notice = await console.client.get(response.headers["location"])
    assert "Started count c-new." in notice.text
    refused = await console.client.post(
        f"/warehouse/counts/{OPEN}/results",
        data={"csrf_token": token, "idempotency_key": "k", "sku": "MUG-1", "counted": "1"},
    )
    assert refused.status_code == 403
    assert len([c for c in console.services.calls if c["method"] == "POST"]) == 1


async def test_a_count_of_nothing_is_not_started(console: Console) -> None:
    await console.sign_in("walt")
    token = await console.csrf("/warehouse/counts")
    form = {"csrf_token": token, "idempotency_key": "k", "location_id": "WH-1", "skus": " , "}
    response = await console.client.post("/warehouse/counts", data=form)
    assert response.status_code == 422
    assert "name at least one SKU to count" in response.text
    assert not [c for c in console.services.calls if c["method"] == "POST"]


@pytest.mark.parametrize("name", ["cora", "fay"])
async def test_other_roles_neither_see_counts_nor_start_or_post_them(
    console: Console, name: str
) -> None:
    await console.sign_in(name)
    for path in ("/warehouse/counts", f"/warehouse/counts/{OPEN}"):
        assert (await console.client.get(path)).status_code == 403
    token = await console.csrf("/exceptions")
    form = {"csrf_token": token, "idempotency_key": "k", "location_id": "WH-1",
            "skus": "MUG-1", "sku": "MUG-1", "counted": "1"}  # fmt: skip
    for path in ("/warehouse/counts", f"/warehouse/counts/{OPEN}/results"):
        assert (await console.client.post(path, data=form)).status_code == 403
    assert not [c for c in console.services.calls if c["method"] == "POST"]
