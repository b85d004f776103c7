"""The kit's body guard and catch-all: every bad body is a 4xx problem document naming the field,
and even a defect answers a problem document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from keel_kit.http_limits import BodyLimits, field_holding_unstorable_text, json_shape_problem
from kit_http_app import BODY_LIMIT, client, tiny_app

pytestmark = pytest.mark.unit

PROBLEM = "application/problem+json"
JSON = {"content-type": "application/json"}


@pytest_asyncio.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client(tiny_app(tmp_path)) as http_client:
        yield http_client


def fields(response: httpx.Response) -> set[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return {error["field"] for error in response.json().get("errors", [])}


@pytest.mark.asyncio
async def test_a_body_within_the_limit_reaches_the_route(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/things", json={"name": "x" * (BODY_LIMIT - 100)})

    assert response.status_code == 201, response.text


@pytest.mark.asyncio
async def test_a_body_over_the_limit_is_a_413_stating_the_limit(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/things", json={"name": "x" * BODY_LIMIT})

    assert response.status_code == 413
    assert fields(response) == {"body"}
    assert response.json()["limit_bytes"] == BODY_LIMIT
    assert str(BODY_LIMIT) in response.json()["detail"]


@pytest.mark.asyncio
async def test_a_batch_route_takes_its_own_larger_limit(http: httpx.AsyncClient) -> None:
    big = {"name": "x" * BODY_LIMIT}

    single = await http.post("/v1/things", json=big)
    batch = await http.post("/v1/things/batch", json=big)

    assert single.status_code == 413
    assert batch.status_code == 405  # past the body checks to routing: no POST there


def test_body_limits_tell_a_batch_path_from_any_other() -> None:
    limits = BodyLimits(default=10, batch=99)

    assert limits.for_path("/v1/orders/batch") == 99
    assert limits.for_path("/v1/orders") == 10
    assert limits.for_path("/v1/batches") == 10


@pytest.mark.asyncio
async def test_a_chunked_body_without_length_is_cut_off_at_the_limit(
    http: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = await http.post("/v1/things", content=chunks(), headers=JSON)

    assert response.status_code == 413
    assert response.json()["limit_bytes"] == BODY_LIMIT


@pytest.mark.asyncio
async def test_a_body_that_is_not_json_is_a_415_naming_the_content_type(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/v1/things", content=b"name=x", headers={"content-type": "text/plain"}
    )

    assert response.status_code == 415
    assert fields(response) == {"header.Content-Type"}


@pytest.mark.asyncio
async def test_a_json_subtype_is_accepted(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/things",
        content=b'{"name": "x"}',
        headers={"content-type": "application/merge-patch+json; charset=utf-8"},
    )

    assert response.status_code == 201, response.text


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1500 + b"]" * 1500,  # deep, balanced
        b'{"name": "x", "extra": ' + b"[" * 1000 + b"]" * 1000 + b"}",
        b"[" * 3000,  # deep and never closed: a recursive parser dies before seeing the end
    ],
)
async def test_deeply_nested_json_is_a_422_on_the_body(
    http: httpx.AsyncClient, body: bytes
) -> None:
    response = await http.post("/v1/things", content=body, headers=JSON)

    assert response.status_code == 422
    assert fields(response) == {"body"}


@pytest.mark.asyncio
async def test_nul_in_a_body_string_is_a_422_naming_the_field(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/things", json={"name": "ok", "extra": {"notes": ["a\x00b"]}})

    assert response.status_code == 422
    assert fields(response) == {"extra.notes.0"}


@pytest.mark.asyncio
async def test_a_lone_surrogate_in_a_body_string_is_a_422_naming_the_field(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/v1/things", content=b'{"name": "half \\ud800 a pair"}', headers=JSON
    )

    assert response.status_code == 422
    assert fields(response) == {"name"}


@pytest.mark.asyncio
async def test_an_unexpected_error_is_a_500_problem_document(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/boom")

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["title"] == "Internal error"


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["refused", "shutting-down", "dropped", "locked", "pool-exhausted"])
async def test_a_database_away_is_a_503_to_retry(http: httpx.AsyncClient, how: str) -> None:
    response = await http.get(f"/v1/database/{how}")

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "1"


@pytest.mark.asyncio
async def test_a_database_refusing_a_defective_statement_stays_a_500(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/v1/database/defect")

    assert response.status_code == 500
    assert "retry-after" not in response.headers


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/v1/late", "/v1/cents"])
async def test_a_date_or_amount_overflowing_in_a_use_case_is_a_422(
    http: httpx.AsyncClient, path: str
) -> None:
    response = await http.get(path)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.asyncio
async def test_every_route_declares_the_problem_documents_it_may_answer(
    http: httpx.AsyncClient,
) -> None:
    document = (await http.get("/openapi.json")).json()

    responses: dict[str, Any] = document["paths"]["/v1/things"]["post"]["responses"]
    for status in ("404", "409", "413", "415", "422", "500"):
        schema = responses[status]["content"][PROBLEM]["schema"]
        assert schema == {"$ref": "#/components/schemas/ProblemDocument"}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"a": [1, {"b": "[[[["}]}', None),  # brackets inside strings do not count
        (b'{"a": "\\"[[["}', None),  # nor after an escaped quote
        (b"[" * 33 + b"]" * 33, "nested deeper than 32 levels"),
        (b"[" * 32 + b"]" * 32, None),
        (b"[}", "not valid JSON: its brackets do not match"),
    ],
)
def test_json_shape_is_measured_without_recursion(body: bytes, problem: str | None) -> None:
    assert json_shape_problem(body) == problem


def test_unstorable_text_is_found_in_keys_and_lists() -> None:
    assert field_holding_unstorable_text(b'{"a": [{"k\\u0000": 1}]}') == "a.0.k\\x00"
    assert field_holding_unstorable_text(b'{"a": "\\u0000"}') == "a"
    assert field_holding_unstorable_text(b'{"a": ["x", "\\uDC00"]}') == "a.1"
    assert field_holding_unstorable_text(b'{"a": "fine"}') is None


def test_a_surrogate_pair_is_one_storable_character() -> None:
    assert field_holding_unstorable_text(b'{"a": "\\ud83d\\ude00"}') is None
