"""Two replicas of one consumer share its partitions; killing one moves its partitions to the
other with nothing lost."""

import asyncio

import pytest

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import StockReceived
from keel_contracts.values import Money
from tests.conftest import Infra
from tests.integration.support import (
    ServiceProcess,
    StartService,
    eventually,
    journal_entries,
    new_sku,
    produce_many,
)

pytestmark = pytest.mark.integration

TOPIC = "inventory.stock.v1"
PARTITIONS = 6


def _receipts(count: int) -> list[tuple[str, bytes]]:
    """(key, body) of `count` receipts for distinct SKUs, so they spread over all partitions."""
    receipts = []
    for _ in range(count):
        sku = new_sku()
        envelope = Envelope.wrap(
            StockReceived(
                movement_id=str(new_event_id()),
                sku=sku,
                location_id="WH-EAST",
                quantity=1,
                unit_cost=Money(amount="1.00", currency="USD"),
                reference="replica test",
            ),
            source="inventory",
            correlation_id=sku,
        )
        receipts.append((sku, envelope.to_bytes()))
    return receipts


def _movement_id(body: bytes) -> str:
    movement_id: str = Envelope.from_bytes(body).payload["movement_id"]
    return movement_id


def _consumed(replica: ServiceProcess) -> float:
    return replica.metric("keel_messages_consumed_total", topic=TOPIC)


def _partitions(replica: ServiceProcess) -> float:
    return replica.metric("keel_consumer_partitions", topic=TOPIC)


def test_killed_replica_hands_its_partitions_over(
    infra: Infra, start_service: StartService
) -> None:
    first = start_service("finance")
    second = start_service("finance", database_url=first.env["KEEL_FINANCE_DATABASE_URL"])
    eventually(
        lambda: _partitions(first) > 0 and _partitions(second) > 0,
        what="both replicas to own partitions",
    )
    assert _partitions(first) + _partitions(second) == PARTITIONS

    before = _receipts(60)
    asyncio.run(produce_many(infra.bootstrap, TOPIC, before))
    eventually(
        lambda: all(journal_entries(first, _movement_id(body)) for _, body in before),
        what="the first 60 receipts",
    )
    # The entries are read through `first`, from the database both replicas write; each replica
    # counts a batch only after it committed, so the one that wrote the last entries may not
    # have counted them yet (with 60 receipts sent at once, that can be its only batch).
    eventually(
        lambda: _consumed(first) > 0 and _consumed(second) > 0,
        what="both replicas to count the receipts they consumed",
    )

    second.kill()
    after = _receipts(60)
    asyncio.run(produce_many(infra.bootstrap, TOPIC, after))
    eventually(lambda: _partitions(first) == PARTITIONS, what="the survivor to take over")
    eventually(
        lambda: all(journal_entries(first, _movement_id(body)) for _, body in after),
        timeout=90,
        what="the 60 receipts sent after the kill",
    )
    for _, body in before + after:
        assert len(journal_entries(first, _movement_id(body))) == 1
