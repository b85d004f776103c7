"""A reference missing from a replica: 503 with Retry-After while the replica lags, else the
caller's own refusal."""

import httpx
import pytest
from fastapi import FastAPI

from keel_kit.broker_lag import BrokerLag
from keel_kit.catchup import FixedLag, ReplicaBehind, ReplicaCatchup
from keel_kit.kafka_access import KafkaAccess
from keel_kit.problems import install_problem_handlers

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]

ITEMS = "inventory.item.v1"


async def test_a_replica_behind_its_topic_is_reported_with_the_lag() -> None:
    catchup = ReplicaCatchup(FixedLag({ITEMS: 3}))

    behind = await catchup.behind(ITEMS, keys=["MUG-1"])

    assert behind is not None
    assert (behind.status, behind.topic, behind.lag) == (503, ITEMS, 3)
    assert "inventory.item.v1 is 3 messages behind" in behind.detail


async def test_a_caught_up_replica_lets_the_caller_refuse() -> None:
    catchup = ReplicaCatchup(FixedLag({ITEMS: 0}))

    assert await catchup.behind(ITEMS) is None
    await catchup.require_caught_up(ITEMS, missing="sku MUG-1")  # does not raise


async def test_a_lag_that_cannot_be_told_counts_as_behind() -> None:
    catchup = ReplicaCatchup(FixedLag({ITEMS: None}))

    with pytest.raises(ReplicaBehind, match="sku MUG-1 is not known here yet") as raised:
        await catchup.require_caught_up(ITEMS, missing="sku MUG-1", field="sku")

    assert raised.value.lag is None
    assert raised.value.field == "sku"
    assert "could not be asked" in raised.value.detail


async def test_a_broker_that_cannot_be_reached_gives_no_lag() -> None:
    source = BrokerLag(KafkaAccess("127.0.0.1:1"), "order-service", timeout=1.0)
    try:
        assert await source.lag(ITEMS, keys=["MUG-1"]) is None
    finally:
        await source.close()


async def test_replica_behind_is_a_503_problem_with_retry_after() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/items/{sku}")
    async def item(sku: str) -> None:
        raise ReplicaBehind(ITEMS, 2).naming(f"sku {sku}", field="sku")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        response = await client.get("/items/MUG-1")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"] == (
        "sku MUG-1 is not known here yet: this service's copy of inventory.item.v1 is "
        "2 messages behind; retry in 1s"
    )
    assert (problem["status"], problem["topic"], problem["lag"]) == (503, ITEMS, 2)
    assert problem["errors"] == [{"field": "sku", "message": problem["detail"]}]
