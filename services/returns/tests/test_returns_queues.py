"""Service tests of the returns list the warehouse works from: returns authorized and waiting to
be received, and received ones waiting for inspection (at a location), oldest first, paged."""

from __future__ import annotations

from typing import Any

import pytest

from keel_contracts.roles import Role
from keel_kit.testing import selects, statements_run
from returns_harness import Stack

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def listed(stack: Stack, **params: Any) -> dict[str, Any]:
    return await stack.listed("/v1/returns", **params)


async def received(stack: Stack, order_id: str, location: str) -> str:
    return_id = await stack.authorized(order_id, "MUG-1", "12.00")
    answer = await stack.receive(return_id, ("MUG-1", 1), location=location)
    assert answer.status_code == 200, answer.text
    return return_id


async def test_returns_waiting_to_be_received_are_listed_oldest_first(stack: Stack) -> None:
    first = await stack.authorized("o-1", "MUG-1", "12.00")
    await stack.order("o-2", ("MUG-1", 3, "12.00"), ("CUP-1", 1, "4.00"), total="40.00")
    second = await stack.authorize("o-2", ("MUG-1", 2), ("CUP-1", 1))
    await received(stack, "o-3", "WH-R")

    waiting = await listed(stack)

    assert [r["return_id"] for r in waiting["items"]] == [first, second]
    assert waiting["next_cursor"] is None
    # Each as GET /v1/returns/{id} shows it: what the receipt form counts against.
    assert waiting["items"][1] == await stack.view(second)
    assert [(x["sku"], x["authorized"], x["received"]) for x in waiting["items"][1]["items"]] == [
        ("MUG-1", 2, 0),
        ("CUP-1", 1, 0),
    ]


async def test_received_returns_are_listed_by_where_they_came_in(stack: Stack) -> None:
    await stack.authorized("o-1", "MUG-1", "12.00")  # not received: not in these lists
    here = await received(stack, "o-2", "WH-R")
    there = await received(stack, "o-3", "WH-S")
    inspected = await received(stack, "o-4", "WH-R")
    assert (await stack.inspect(inspected, ("MUG-1", 1, "A"))).status_code == 200

    everywhere = await listed(stack, status="received")
    at_wh_r = await listed(stack, status="received", location_id="WH-R")

    assert [r["return_id"] for r in everywhere["items"]] == [here, there]
    assert [(r["return_id"], r["location_id"]) for r in at_wh_r["items"]] == [(here, "WH-R")]
    assert at_wh_r["items"][0]["items"][0]["received"] == 1


async def test_the_list_pages_with_its_cursor(stack: Stack) -> None:
    returns = [await stack.authorized(f"o-{n}", "MUG-1", "12.00") for n in range(5)]
    assert await stack.every_page("/v1/returns", "return_id") == returns


async def test_a_page_is_read_in_the_same_few_queries_however_long(stack: Stack) -> None:
    async def queries(limit: int) -> int:
        with statements_run(stack.db) as statements:
            await listed(stack, limit=limit)
        return len(selects(statements))

    for n in range(4):
        await stack.authorized(f"o-{n}", "MUG-1", "12.00")

    assert await queries(1) == await queries(4)


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"limit": 500},
        {"cursor": "x"},
        {"location_id": "WH R"},
        # An authorized return has not come in anywhere yet.
        {"location_id": "WH-R"},
    ],
)
async def test_a_bad_filter_is_a_422_naming_it(stack: Stack, params: dict[str, Any]) -> None:
    response = await stack.client.get("/v1/returns", params=params)
    assert response.status_code == 422
    assert next(iter(params)) in response.text


async def test_the_warehouse_may_list_returns_and_procurement_may_not(stack: Stack) -> None:
    warehouse = stack.as_person("wes", Role.WAREHOUSE)
    procurement = stack.as_person("bea", Role.PROCUREMENT)

    assert (await stack.client.get("/v1/returns", headers=warehouse)).status_code == 200
    assert (await stack.client.get("/v1/returns", headers=procurement)).status_code == 403
