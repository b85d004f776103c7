from decimal import Decimal

import pytest

from keel_contracts import Envelope
from keel_contracts.events import ItemRegistered
from keel_contracts.values import Money
from keel_kit.consumer import BatchProcessor
from keel_kit.db import Database
from keel_kit.decoding import Record
from keel_kit.handlers import Handlers
from keel_kit.metrics import KitMetrics
from keel_kit.outbox import Outbox
from keel_kit.replicas import ItemReplica, replicate_items

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]


def registered(name: str, cost: str) -> Record:
    envelope = Envelope.wrap(
        ItemRegistered(
            sku="MUG-1", name=name, unit_cost=Money(amount=Decimal(cost), currency="USD")
        ),
        source="inventory",
        correlation_id="MUG-1",
    )
    return Record(
        topic="inventory.item.v1", partition=0, offset=0, key=b"MUG-1", value=envelope.to_bytes()
    )


async def test_the_newest_registration_of_a_sku_wins(db: Database) -> None:
    handlers = Handlers()
    replicate_items(handlers)
    consumer = BatchProcessor(
        consumer="order-service",
        handlers=handlers,
        db=db,
        outbox=Outbox("order"),
        metrics=KitMetrics("order"),
        max_attempts=1,
        backoff_seconds=0.001,
        service=None,
    )

    await consumer.process([registered("Mug", "3.50")])
    await consumer.process([registered("Large mug", "4.00")])

    async with db.transaction() as session:
        item = await session.get(ItemReplica, "MUG-1")
    assert item is not None
    assert (item.name, item.unit_cost) == ("Large mug", Decimal("4.00"))
