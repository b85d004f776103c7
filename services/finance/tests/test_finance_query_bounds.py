"""Finance's query and path parameters at the edges: each is a 422 naming the parameter."""

from __future__ import annotations

import pytest

from finance_harness import Finance

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


@pytest.mark.parametrize(
    "since", ["0001-01-01", "9999-12-31T23:59:59", "9999-12-31T23:59:59-05:00"]
)
async def test_margins_since_at_the_edge_of_the_calendar_is_a_422(
    finance: Finance, since: str
) -> None:
    response = await finance.client.get("/v1/margins", params={"since": since})

    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == {"query.since"}


async def test_margins_since_without_a_zone_is_read_as_utc(finance: Finance) -> None:
    response = await finance.client.get("/v1/margins", params={"since": "2026-01-01T00:00:00"})

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/journal", {"source_id": "ORD-1\x00"}, "query.source_id"),
        ("/v1/valuation", {"cursor": "SKU\x00"}, "query.cursor"),
        ("/v1/payments/ORD%00-1", {}, "path.order_id"),
    ],
)
async def test_a_control_character_in_a_parameter_is_a_422_naming_it(
    finance: Finance, path: str, params: dict[str, str], field: str
) -> None:
    response = await finance.client.get(path, params=params)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json()["errors"]} == {field}
