"""Service tests of the refund list finance works from: by status, oldest first, paged."""

from __future__ import annotations

from typing import Any

import pytest

from keel_contracts.roles import Role
from returns_harness import Stack

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def listed(stack: Stack, **params: Any) -> dict[str, Any]:
    return await stack.listed("/v1/refunds", **params)


async def test_refunds_waiting_for_approval_are_listed_oldest_first(stack: Stack) -> None:
    first = await stack.returned("o-1", "TV-1", "800.00")
    second = await stack.returned("o-2", "TV-1", "900.00")
    small = await stack.returned("o-3", "MUG-1", "12.00")  # below the threshold: requested

    waiting = await listed(stack)
    assert [r["return_id"] for r in waiting["items"]] == [first, second]
    assert [r["amount"]["amount"] for r in waiting["items"]] == ["800.00", "900.00"]
    assert waiting["next_cursor"] is None
    requested = await listed(stack, status="requested")
    assert [r["return_id"] for r in requested["items"]] == [small]


async def test_the_list_pages_with_its_cursor(stack: Stack) -> None:
    returns = [await stack.returned(f"o-{n}", "TV-1", "800.00") for n in range(5)]
    assert await stack.every_page("/v1/refunds", "return_id") == returns


@pytest.mark.parametrize("params", [{"status": "lost"}, {"limit": 500}, {"cursor": "x"}])
async def test_a_bad_filter_is_a_422(stack: Stack, params: dict[str, Any]) -> None:
    response = await stack.client.get("/v1/refunds", params=params)
    assert response.status_code == 422
    assert next(iter(params)) in response.text


async def test_the_warehouse_may_not_read_refunds(stack: Stack) -> None:
    response = await stack.client.get("/v1/refunds", headers=stack.as_person("wes", Role.WAREHOUSE))
    assert response.status_code == 403
