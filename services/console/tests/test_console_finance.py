"""Service tests of finance's pages: the refunds waiting for approval, approved as the person
with an idempotency key per form, and the books as finance's API answers them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from console_harness import Console, running_console

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


REFUND: dict[str, Any] = {
    "refund_id": "rf-0001",
    "return_id": "rt-0001",
    "order_id": "or-0001",
    "status": "pending_approval",
    "amount": money("800.00"),
    "goods": money("800.00"),
    "restocking_fee": money("0.00"),
    "shipping": money("0.00"),
    "capped": False,
    "lines": [],
    "approver": None,
    "created_at": "2026-12-07T08:00:00+00:00",
    "approved_at": None,
}
TRIAL = {
    "balanced": True,
    "currencies": [
        {
            "currency": "USD",
            "debits": "812.00",
            "credits": "812.00",
            "balanced": True,
            "accounts": [
                {
                    "account": "1000",
                    "name": "Cash",
                    "kind": "asset",
                    "debits": "812.00",
                    "credits": "0.00",
                    "balance": "812.00",
                },
                {
                    "account": "4000",
                    "name": "Sales",
                    "kind": "revenue",
                    "debits": "0.00",
                    "credits": "812.00",
                    "balance": "-812.00",
                },
            ],
        }
    ],
}


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with running_console(tmp_path) as console:
        for name, role in (("fay", "finance"), ("lea", "leadership"), ("wes", "warehouse")):
            await console.add_user(name, role)
        answers = console.services.answers
        answers[("GET", "/v1/refunds")] = {"items": [REFUND], "next_cursor": None}
        answers[("GET", "/v1/trial-balance")] = TRIAL
        answers[("GET", "/v1/margins")] = {
            "channels": [
                {
                    "channel": "web",
                    "currency": "USD",
                    "revenue": "800.00",
                    "cost_of_goods": "300.00",
                    "margin": "500.00",
                    "margin_percent": "62.50",
                }
            ]
        }
        answers[("GET", "/v1/reconciliation/inventory")] = (503, "inventory did not answer")
        yield console


async def test_finance_lands_on_the_refunds_and_approves_one(console: Console) -> None:
    console.services.answers[("POST", "/v1/refunds/rf-0001/approve")] = {**REFUND}
    landed = await console.sign_in("fay")
    assert landed.headers["location"] == "/finance"
    page = await console.client.get("/finance")
    assert "800.00 USD" in page.text
    assert console.services.calls[-1]["url"].params["status"] == "pending_approval"
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert key is not None
    assert token is not None

    form = {"csrf_token": token.group(1), "idempotency_key": key.group(1)}
    response = await console.client.post("/finance/refunds/rf-0001/approve", data=form)
    assert response.status_code == 303
    sent = console.services.calls[-1]
    assert (sent["method"], sent["url"].path) == ("POST", "/v1/refunds/rf-0001/approve")
    assert (sent["claims"]["sub"], sent["key"]) == ("fay", key.group(1))
    assert (
        "Approved refund rf-0001." in (await console.client.get(response.headers["location"])).text
    )


async def test_leadership_reads_the_refunds_without_a_button(console: Console) -> None:
    await console.sign_in("lea")
    page = await console.client.get("/finance")
    assert "800.00 USD" in page.text
    assert "/approve" not in page.text
    token = await console.csrf("/finance")
    refused = await console.client.post(
        "/finance/refunds/rf-0001/approve", data={"csrf_token": token, "idempotency_key": "k"}
    )
    assert refused.status_code == 403
    assert not [c for c in console.services.calls if c["method"] == "POST"]


async def test_the_books_show_what_finance_answers_and_what_it_could_not(console: Console) -> None:
    await console.sign_in("fay")
    page = await console.client.get("/finance/books")
    assert page.status_code == 200
    assert "Balanced in every currency" in page.text
    assert re.search(r"<td>4000</td><td>Sales</td>", page.text)
    assert Decimal("62.50") == Decimal(re.findall(r'class="num">([\d.]+)</td></tr>', page.text)[-1])
    assert "Could not read finance: inventory did not answer" in page.text


async def test_the_warehouse_has_no_finance_pages(console: Console) -> None:
    await console.sign_in("wes")
    for path in ("/finance", "/finance/books"):
        assert (await console.client.get(path)).status_code == 403
    assert console.services.calls == []
