"""Consumer positions: recorded with each batch, and where an assigned partition resumes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiokafka import TopicPartition
from test_consumer import Behaviour, processor

from keel_kit import positions
from keel_kit.db import Database
from kit_fixtures import receipt, record

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]

STOCK = "inventory.stock.v1"


class FakeConsumer:
    """Records what `resume` asks of the Kafka client; `committed` answers from a dict."""

    def __init__(self, committed: dict[TopicPartition, int], log_start: int = 0) -> None:
        self._committed = committed
        self._log_start = log_start
        self.seeks: dict[TopicPartition, int] = {}

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks[partition] = offset

    async def committed(self, partition: TopicPartition) -> int | None:
        return self._committed.get(partition)

    async def beginning_offsets(
        self, partitions: list[TopicPartition]
    ) -> dict[TopicPartition, int]:
        return {tp: self._log_start for tp in partitions}


async def test_a_batch_records_each_partitions_next_offset(db: Database) -> None:
    batch = [
        record(receipt(1).to_bytes(), 40),
        replace(record(b"not json", 7), partition=3),  # dead-lettered, still dealt with
        record(receipt(2).to_bytes(), 41),
    ]

    await processor(db, Behaviour()).process(batch)

    found = await positions.load(
        db, "finance-service", [TopicPartition(STOCK, 0), TopicPartition(STOCK, 3)]
    )
    assert found == {TopicPartition(STOCK, 0): 42, TopicPartition(STOCK, 3): 8}


async def test_a_stale_batch_never_moves_a_position_back(db: Database) -> None:
    consumer = processor(db, Behaviour())
    await consumer.process([record(receipt(1).to_bytes(), 90)])
    await consumer.process([record(receipt(2).to_bytes(), 12)])  # a replica's late batch

    found = await positions.load(db, "finance-service", [TopicPartition(STOCK, 0)])
    assert found == {TopicPartition(STOCK, 0): 91}


async def test_a_batch_with_nothing_to_write_leaves_its_position(db: Database) -> None:
    """Only duplicates: the transaction stays read-only (no wait for the disk), and reading
    them again after a restart is as harmless as it was the first time."""
    consumer = processor(db, Behaviour())
    first = receipt(1).to_bytes()
    await consumer.process([record(first, 5)])
    await consumer.process([record(first, 6), record(first, 7)])  # the same event, redelivered

    found = await positions.load(db, "finance-service", [TopicPartition(STOCK, 0)])
    assert found == {TopicPartition(STOCK, 0): 6}


async def test_positions_belong_to_their_consumer(db: Database) -> None:
    await processor(db, Behaviour()).process([record(receipt(1).to_bytes(), 5)])

    assert await positions.load(db, "order-service", [TopicPartition(STOCK, 0)]) == {}


async def test_resume_trusts_the_database_over_the_broker(db: Database) -> None:
    await processor(db, Behaviour()).process([record(receipt(1).to_bytes(), 500)])
    read, never_read, known_to_kafka = (
        TopicPartition(STOCK, 0),
        TopicPartition(STOCK, 1),
        TopicPartition(STOCK, 2),
    )
    # The broker answers as one restarting might: no commit for a partition read for weeks.
    consumer = FakeConsumer(committed={known_to_kafka: 77}, log_start=3)

    await positions.resume(consumer, db, "finance-service", [read, never_read, known_to_kafka])

    # Known only to Kafka (a database older than its positions): adopted where Kafka says;
    # never read by anyone: from the log's start, by decision.
    assert consumer.seeks == {read: 501, never_read: 3, known_to_kafka: 77}
    # From now on the database knows every partition it was given.
    later = FakeConsumer(committed={})
    await positions.resume(later, db, "finance-service", [read, never_read, known_to_kafka])
    assert later.seeks == consumer.seeks
