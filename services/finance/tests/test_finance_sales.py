"""`GET /v1/sales`: each posted sale with what the customer owes, which `keel check` matches
with the order service's shipped orders."""

from __future__ import annotations

from typing import Any

import pytest
from test_finance_payments import authorize

from finance_harness import Finance, new_order, usd
from keel_contracts.commands import CapturePayment

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def every_page(finance: Finance, limit: int) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = await finance.get_json("/v1/sales", **params)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


async def test_each_sale_is_listed_once_with_goods_and_shipping_owed(finance: Finance) -> None:
    shipped = sorted([new_order(), new_order()])
    captured_only = new_order()
    for order_id in (*shipped, captured_only):
        await finance.publish(authorize(order_id))
    for order_id in shipped:
        capture = CapturePayment(
            order_id=order_id, amount=usd("40.00"), goods=usd("35.00"), shipping=usd("5.00")
        )
        await finance.publish(capture)
        await finance.publish(capture)  # a repeat posts nothing more
    await finance.publish(CapturePayment(order_id=captured_only, amount=usd("40.00")))

    assert await every_page(finance, limit=1) == [
        [{"order_id": shipped[0], "currency": "USD", "amount": "40.00"}],
        [{"order_id": shipped[1], "currency": "USD", "amount": "40.00"}],
    ]
