"""`keel check` matches the order service's shipped orders with finance's posted sales."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from keel_cli.check import CheckReport, _add_sales_cross_check

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]

URLS: Any = {"order": "http://order.test", "finance": "http://finance.test"}


def paged(items: list[dict[str, str]], request: httpx.Request) -> httpx.Response:
    """A cursor-paged list as the services give it: the cursor is the last order id shown."""
    cursor = request.url.params.get("cursor")
    limit = int(request.url.params["limit"])
    after = [i for i in items if cursor is None or i["order_id"] > cursor]
    page = after[:limit]
    next_cursor = page[-1]["order_id"] if len(after) > limit else None
    return httpx.Response(200, json={"items": page, "next_cursor": next_cursor})


async def findings(
    shipped: list[dict[str, str]], sales: list[dict[str, str]], *, page: int = 1000
) -> list[str]:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "order.test":
            assert request.url.path == "/v1/shipped-orders"
            return paged(shipped, request)
        assert request.url.path == "/v1/sales"
        return paged(sales, request)

    report = CheckReport()
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        await _add_sales_cross_check(report, http, URLS, page=page)
    assert report.checked == [
        "finance: each shipped order's sale is posted in finance, for the order's total"
    ]
    return [f.detail for f in report.findings if f.severity == "violation"]


def order(order_id: str, total: str, currency: str = "USD") -> dict[str, str]:
    return {"order_id": order_id, "currency": currency, "total": total}


def sale(order_id: str, amount: str, currency: str = "USD") -> dict[str, str]:
    return {"order_id": order_id, "currency": currency, "amount": amount}


async def test_every_shipped_order_with_its_sale_is_a_pass_across_pages() -> None:
    shipped = [order(f"o-{n}", "24.99") for n in range(5)]
    sales = [sale(f"o-{n}", "24.990") for n in range(5)]  # the same amount, more places
    assert await findings(shipped, sales, page=2) == []


async def test_a_shipped_order_without_a_sale_and_a_sale_without_an_order_are_named() -> None:
    shipped = [order("o-1", "10.00"), order("o-2", "10.00")]
    sales = [sale("o-2", "10.00"), sale("o-3", "5.00")]
    assert await findings(shipped, sales, page=1) == [
        "order o-1 shipped, but finance posted no sale for it",
        "finance posted a sale of order o-3, which has not shipped whole",
    ]


async def test_a_sale_for_another_amount_or_currency_is_named() -> None:
    shipped = [order("o-1", "10.00"), order("o-2", "700", "JPY")]
    sales = [sale("o-1", "9.99"), sale("o-2", "700", "USD")]
    assert await findings(shipped, sales) == [
        "order o-1 totals 10.00 USD, its sale owes 9.99 USD",
        "order o-2 totals 700 JPY, its sale owes 700 USD",
    ]
