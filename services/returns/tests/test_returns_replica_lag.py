"""Service tests: a return asked before this service has heard every shipment of the order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from test_returns_authorization import Stack, refusal

from keel_kit.catchup import FixedLag
from keel_kit.testing import running
from returns_harness import returns_app

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

SHIPMENTS = "fulfillment.shipment.v1"


@pytest_asyncio.fixture
async def returns(tmp_path: Path) -> AsyncIterator[Stack]:
    """The returns service with the authorization tests' doors (`ship`, `request`), caught up
    on fulfillment's shipments until a test says otherwise (`lagging`)."""
    async with running(returns_app(tmp_path), Stack, lags={SHIPMENTS: 0}) as returns:
        yield returns


def lagging(returns: Stack, lag: int | None) -> FixedLag:
    """From now on, this service is `lag` messages behind on fulfillment's shipments."""
    source = returns.context.catchup.source
    assert isinstance(source, FixedLag)
    source.lags[SHIPMENTS] = lag
    return source


async def test_a_return_of_an_order_not_heard_shipped_is_a_503_while_behind(returns: Stack) -> None:
    lagging(returns, 2)

    response = await returns.request("o-20", ("MUG-1", 1))

    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    problem = response.json()
    assert problem["detail"].startswith("what order o-20 shipped is not known here yet")
    assert "fulfillment.shipment.v1 is 2 messages behind" in problem["detail"]
    assert problem["errors"][0]["field"] == "order_id"
    assert await returns.sent() == []


async def test_more_than_heard_shipped_is_a_503_while_behind(returns: Stack) -> None:
    await returns.ship("o-21", ("MUG-1", 1))
    lagging(returns, 1)

    response = await returns.request("o-21", ("MUG-1", 2))

    assert response.status_code == 503, response.text
    assert response.json()["errors"][0]["field"] == "lines.0.quantity"


async def test_the_return_is_authorized_once_the_shipment_has_arrived(returns: Stack) -> None:
    lagging(returns, 1)
    assert (await returns.request("o-22", ("MUG-1", 1), key="k-22")).status_code == 503

    await returns.ship("o-22", ("MUG-1", 1))
    lagging(returns, 0)

    assert (await returns.request("o-22", ("MUG-1", 1), key="k-22")).status_code == 201


async def test_refusals_stand_once_caught_up(returns: Stack) -> None:
    source = lagging(returns, 0)

    assert refusal(await returns.request("o-23", ("MUG-1", 1))) == (
        "order_id",
        "nothing of order o-23 has shipped",
    )
    assert source.asked == [SHIPMENTS]


async def test_a_return_within_what_shipped_never_asks_about_the_lag(returns: Stack) -> None:
    await returns.ship("o-24", ("MUG-1", 2))
    source = lagging(returns, 5)

    assert (await returns.request("o-24", ("MUG-1", 2))).status_code == 201
    assert source.asked == []
