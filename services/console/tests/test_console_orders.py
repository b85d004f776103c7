"""Service tests of the order pages: the search, one order with what its customer was told,
and customer service cancelling it or authorizing a return, as the services answer."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from console_harness import Console, running_console

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

ORDER_ID = "01a24ebb-0000-7000-8000-00000000beef"


def order(status: str, cancellable: bool, shipped: int = 0) -> dict[str, Any]:
    return {
        "order_id": ORDER_ID,
        "channel": "web",
        "external_id": "W-1001",
        "customer_id": "C-7",
        "status": status,
        "cancellable": cancellable,
        "currency": "USD",
        "total": "30.00",
        "rule_set_version": "2026-11.1",
        "fraud_score": 0,
        "lines": [
            {
                "sku": "MUG-1",
                "quantity": 2,
                "unit_price": "12.50",
                "reserved": 2,
                "shipped": shipped,
            }
        ],
        "holds": [],
        "history": [
            {"status": "validating", "at": "2026-12-07T08:00:00+00:00", "reason": "placed"}
        ],
    }


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with running_console(tmp_path) as console:
        for name, role in (("kim", "customer_service"), ("fay", "finance")):
            await console.add_user(name, role)
        answers = console.services.answers
        answers[("GET", f"/v1/orders/{ORDER_ID}")] = order("confirmed", cancellable=True)
        answers[("GET", f"/v1/orders/{ORDER_ID}/notifications")] = {
            "order_id": ORDER_ID,
            "customer_id": "C-7",
            "items": [
                {
                    "notification_id": 1,
                    "kind": "confirmed",
                    "message": "Your order W-1001 is confirmed.",
                    "created_at": "2026-12-07T08:00:01+00:00",
                    "sent_at": "2026-12-07T08:00:02+00:00",
                }
            ],
        }
        answers[("GET", "/v1/shipments")] = []
        answers[("GET", "/v1/journal")] = (403, "kim (customer_service) may not GET /v1/journal")
        yield console


async def test_customer_service_finds_orders_by_customer(console: Console) -> None:
    console.services.answers[("GET", "/v1/orders")] = {
        "items": [
            {
                "order_id": ORDER_ID,
                "channel": "web",
                "external_id": "W-1001",
                "customer_id": "C-7",
                "status": "confirmed",
                "currency": "USD",
                "total": "30.00",
                "created_at": "2026-12-07T08:00:00+00:00",
            }
        ],
        "next_cursor": None,
    }
    landed = await console.sign_in("kim")
    assert landed.headers["location"] == "/orders"
    # As the form sends it: every field, the empty ones meaning any.
    form = {"external_id": "", "customer_id": "C-7", "status": ""}
    page = await console.client.get("/orders", params=form)
    assert f'href="/orders/{ORDER_ID}"' in page.text
    assert dict(console.services.calls[-1]["url"].params) == {"customer_id": "C-7"}
    opened = await console.client.get("/orders", params={"order_id": ""})
    assert opened.status_code == 200  # nothing asked: the search form alone
    assert len(console.services.calls) == 1
    bad = await console.client.get("/orders", params={"status": "lost"})
    assert bad.status_code == 422


async def test_the_order_page_shows_what_the_customer_was_told(console: Console) -> None:
    await console.sign_in("kim")
    page = await console.client.get(f"/orders/{ORDER_ID}")
    assert page.status_code == 200
    assert "Your order W-1001 is confirmed." in page.text
    assert "not shown to customer_service" in page.text  # the postings are finance's
    assert "Cancel the order" in page.text
    assert "Authorize the return" not in page.text  # nothing has shipped


async def test_a_backordered_order_shows_when_it_is_expected(console: Console) -> None:
    waiting = {**order("backordered", cancellable=True), "promised_date": "2030-01-10"}
    console.services.answers[("GET", f"/v1/orders/{ORDER_ID}")] = waiting
    await console.sign_in("kim")
    page = await console.client.get(f"/orders/{ORDER_ID}")
    assert "<dt>Expected by</dt><dd>2030-01-10 (goods on order)</dd>" in page.text


async def test_customer_service_cancels_with_a_reason(console: Console) -> None:
    path = f"/v1/orders/{ORDER_ID}/cancel"
    console.services.answers[("POST", path)] = {"order_id": ORDER_ID, "status": "cancelled"}
    await console.sign_in("kim")
    token = await console.csrf(f"/orders/{ORDER_ID}")
    response = await console.client.post(
        f"/orders/{ORDER_ID}/cancel", data={"csrf_token": token, "reason": "customer called"}
    )
    assert response.status_code == 303
    sent = console.services.calls[-1]
    assert (sent["url"].path, sent["body"]) == (path, {"reason": "customer called"})
    assert sent["claims"]["sub"] == "kim"


async def test_a_return_asks_for_the_units_given(console: Console) -> None:
    console.services.answers[("GET", f"/v1/orders/{ORDER_ID}")] = order(
        "delivered", cancellable=False, shipped=2
    )
    console.services.answers[("POST", "/v1/returns")] = {
        "return_id": "rt-1",
        "status": "authorized",
    }
    await console.sign_in("kim")
    page = await console.client.get(f"/orders/{ORDER_ID}")
    assert "Cancel the order" not in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert token is not None
    assert key is not None
    form = {
        "csrf_token": token.group(1),
        "idempotency_key": key.group(1),
        "sku": "MUG-1",
        "quantity": "1",
        "reason": "too small",
    }
    response = await console.client.post(f"/orders/{ORDER_ID}/returns", data=form)
    assert response.status_code == 303
    sent = console.services.calls[-1]
    assert sent["body"] == {
        "order_id": ORDER_ID,
        "lines": [{"sku": "MUG-1", "quantity": 1, "reason": "too small"}],
    }
    assert sent["key"] == key.group(1)


async def test_finance_sees_the_order_but_no_desk_actions(console: Console) -> None:
    await console.sign_in("fay")
    page = await console.client.get(f"/orders/{ORDER_ID}")
    assert page.status_code == 200
    assert "Cancel the order" not in page.text
    token = await console.csrf(f"/orders/{ORDER_ID}")
    refused = await console.client.post(
        f"/orders/{ORDER_ID}/cancel", data={"csrf_token": token, "reason": "x"}
    )
    assert refused.status_code == 403
    assert not [c for c in console.services.calls if c["method"] == "POST"]
