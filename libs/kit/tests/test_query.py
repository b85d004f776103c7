"""The kit's query and path parameters: control characters, calendar extremes, cursors and page
sizes are each a 422 naming the parameter, never a 500."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from keel_kit import cursors
from keel_kit.problems import DomainError
from keel_kit.query import bounded_utc
from kit_http_app import client, tiny_app

pytestmark = pytest.mark.unit


@pytest_asyncio.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client(tiny_app(tmp_path)) as http_client:
        yield http_client


def fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {error["field"] for error in response.json()["errors"]}


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.asyncio
@pytest.mark.parametrize("raw", ["a%00b", "%01", "%7F", "%C2%85"])
async def test_control_character_in_a_path_parameter_is_a_422_naming_it(
    http: httpx.AsyncClient, raw: str
) -> None:
    response = await http.get(f"/v1/things/{raw}")

    assert fields(response) == {"path.thing_id"}


@pytest.mark.asyncio
async def test_control_character_in_a_query_parameter_is_a_422_naming_it(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/v1/things/t-1", params={"cursor": "abc\x00"})

    assert fields(response) == {"query.cursor"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "since",
    [
        "0001-01-01",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59",
        "9999-12-31T23:59:59-05:00",
        "1969-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
        "not a date",
    ],
)
async def test_since_at_the_edges_of_the_calendar_is_a_422_naming_it(
    http: httpx.AsyncClient, since: str
) -> None:
    response = await http.get("/v1/things/t-1", params={"since": since})

    assert fields(response) == {"query.since"}


@pytest.mark.asyncio
async def test_since_without_a_zone_is_taken_as_utc(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/things/t-1", params={"since": "2026-03-01T12:00:00"})

    assert response.status_code == 200, response.text
    assert response.json()["since"] == "2026-03-01T12:00:00Z"


def test_a_zoned_since_is_handed_on_in_utc() -> None:
    shifted = bounded_utc(datetime.fromisoformat("2026-03-01T12:00:00+02:00"))

    assert shifted == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert shifted.tzinfo is UTC


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "w6g",  # base64 of bytes that are not UTF-8
        b64("2026-01-01T00:00:00"),  # one part, two wanted
        b64("2026-01-01T00:00:00|1|2"),
        b64("9999-12-31T23:59:59|1"),
        b64("0001-01-01T00:00:00+05:00|1"),
        b64("2026-01-01T00:00:00|100"),  # beyond the column's range
        b64("2026-01-01T00:00:00|-1"),
        b64("2026-01-01T00:00:00|99999999999999999999999"),
        b64("2026-01-01T00:00:00|1\x00"),
        b64("2026-01-01T00:00:00|\u0661"),  # a digit, but not an ASCII one
    ],
)
async def test_a_malformed_cursor_is_a_422_on_cursor(http: httpx.AsyncClient, cursor: str) -> None:
    response = await http.get("/v1/things/t-1", params={"cursor": cursor})

    assert fields(response) == {"cursor"}


@pytest.mark.asyncio
async def test_a_cursor_the_kit_encoded_reads_back(http: httpx.AsyncClient) -> None:
    due = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    cursor = cursors.encode_cursor([due, 42])

    response = await http.get("/v1/things/t-1", params={"cursor": cursor})

    assert response.status_code == 200, response.text
    assert response.json()["position"] == ["2026-05-01T08:30:00Z", 42]


def test_decoding_refuses_with_the_cursor_field() -> None:
    with pytest.raises(DomainError) as refused:
        cursors.decode_cursor("%%%", parts=2)

    assert refused.value.field == "cursor"
    assert refused.value.status == 422


@pytest.mark.asyncio
@pytest.mark.parametrize("limit", ["0", "-1", "51", str(10**20), "abc"])
async def test_a_page_size_out_of_range_is_a_422_naming_limit(
    http: httpx.AsyncClient, limit: str
) -> None:
    response = await http.get("/v1/things/t-1", params={"limit": limit})

    assert fields(response) == {"query.limit"}
