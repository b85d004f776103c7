"""Requests per caller: a bucket per principal, refilled at the rate, refused with a 429 and
`Retry-After` when empty; one caller's burst never slows another."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel_contracts.roles import Role
from keel_kit.rate_limits import RateLimiter
from kit_http_app import client, keys_of, tiny_app

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=2, burst=3, clock=clock)

    assert [limiter.retry_after("ann") for _ in range(3)] == [None, None, None]
    assert limiter.retry_after("ann") == 1  # empty: half a second to the next token, said as 1
    assert limiter.retry_after("bob") is None  # another caller's bucket is full
    clock.now += 0.5
    assert limiter.retry_after("ann") is None
    assert limiter.retry_after("ann") == 1
    clock.now += 60  # a quiet minute refills to the burst, no further
    assert [limiter.retry_after("ann") for _ in range(4)] == [None, None, None, 1]


def test_a_slow_rate_says_how_long_to_wait() -> None:
    limiter = RateLimiter(per_second=0.1, burst=1, clock=Clock())

    assert limiter.retry_after("ann") is None
    assert limiter.retry_after("ann") == 10


@pytest.mark.asyncio
async def test_a_caller_over_the_limit_gets_a_429_with_retry_after(tmp_path: Path) -> None:
    app = tiny_app(tmp_path, rate_limit_per_second=0.01, rate_limit_burst=2)

    async with client(app, role=Role.OPERATIONS) as ops:
        answers = [(await ops.get("/v1/things/t1")).status_code for _ in range(3)]
        refused = await ops.get("/v1/things/t1")
    other = keys_of(app).staff_token(user="walt", role=Role.WAREHOUSE)
    async with client(app, role=None) as http:
        elsewhere = await http.get("/v1/things/t1", headers={"Authorization": f"Bearer {other}"})

    assert answers == [200, 200, 429]
    assert refused.headers["Retry-After"] == "100"
    assert refused.headers["content-type"] == "application/problem+json"
    assert "retry after 100 s" in refused.json()["detail"]
    assert elsewhere.status_code == 200
