"""The demo's clients repeat a 503 that says when to retry, and nothing else."""

from __future__ import annotations

import httpx
import pytest

from keel_cli.demo.patience import RetryAfterTransport

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]


def answering(*statuses: tuple[int, dict[str, str]]) -> tuple[httpx.MockTransport, list[bytes]]:
    """A server giving these answers in turn, and the request bodies it received."""
    bodies: list[bytes] = []
    answers = iter(statuses)

    def handle(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        status, headers = next(answers)
        return httpx.Response(status, headers=headers, json={"status": status})

    return httpx.MockTransport(handle), bodies


async def post(transport: httpx.AsyncBaseTransport) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        return await client.post("/v1/policies", json={"sku": "MUG-1"})


async def test_a_503_with_retry_after_is_repeated_until_it_succeeds() -> None:
    server, bodies = answering((503, {"Retry-After": "0"}), (503, {"Retry-After": "0"}), (201, {}))

    response = await post(RetryAfterTransport(server))

    assert response.status_code == 201
    assert bodies == [b'{"sku":"MUG-1"}'] * 3  # the same request each time


async def test_a_503_without_retry_after_is_handed_back() -> None:
    server, bodies = answering((503, {}))

    response = await post(RetryAfterTransport(server))

    assert response.status_code == 503
    assert len(bodies) == 1


async def test_patience_runs_out_on_the_last_answer() -> None:
    server, bodies = answering(*[(503, {"Retry-After": "0"})] * 10)

    response = await post(RetryAfterTransport(server, patience=0.25))

    assert response.status_code == 503
    assert 2 <= len(bodies) <= 4
