"""Service tests of the order search customer service works from: by a channel's external id,
a customer or a status, the newest first, paged, and a signed channel's own orders only."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from keel_contracts.roles import Role
from order_harness import ORDER, Stack

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def body(external_id: str, customer_id: str = "C-1") -> dict[str, Any]:
    order = copy.deepcopy(ORDER)
    order["external_id"] = external_id
    order["customer"]["customer_id"] = customer_id
    return order


async def search(stack: Stack, **params: Any) -> dict[str, Any]:
    response = await stack.client.get("/v1/orders", params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def ids(page: dict[str, Any]) -> list[str]:
    return [o["order_id"] for o in page["items"]]


async def test_orders_are_found_by_external_id_customer_and_status(stack: Stack) -> None:
    first = await stack.place(body("E-1", "C-1"))
    second = await stack.place(body("E-2", "C-1"))
    other = await stack.place(body("E-3", "C-2"))

    assert ids(await search(stack, external_id="E-2")) == [second]
    assert ids(await search(stack, customer_id="C-1")) == [second, first]  # newest first
    assert ids(await search(stack, status="validating")) == [other, second, first]
    assert ids(await search(stack, status="shipped")) == []
    (found,) = (await search(stack, external_id="E-3"))["items"]
    assert (found["customer_id"], found["channel"], found["status"]) == ("C-2", "web", "validating")
    assert found["total"] == "30.00"  # two mugs at 12.50 and 5.00 shipping


async def test_the_search_pages_with_its_cursor(stack: Stack) -> None:
    placed = [await stack.place(body(f"P-{n}")) for n in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        page = await search(stack, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(placed))


@pytest.mark.parametrize("params", [{"status": "lost"}, {"limit": 0}, {"external_id": ""}])
async def test_a_bad_filter_is_a_422(stack: Stack, params: dict[str, Any]) -> None:
    response = await stack.client.get("/v1/orders", params=params)
    assert response.status_code == 422
    assert next(iter(params)) in response.text


async def test_the_warehouse_may_not_search_orders(stack: Stack) -> None:
    response = await stack.client.get("/v1/orders", headers=stack.as_person("wes", Role.WAREHOUSE))
    assert response.status_code == 403
