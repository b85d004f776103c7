"""Consumer positions: recorded with each batch, and where an assigned partition resumes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import OffsetOutOfRangeError
from test_consumer import Behaviour, processor

from keel_kit import positions
from keel_kit.db import Database
from kit_fixtures import receipt, record

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]

STOCK = "inventory.stock.v1"


class FakeConsumer:
    """Records what `resume` asks of the Kafka client; `committed` answers from a dict, and
    every partition's log holds offsets `log_start` to `log_end`."""

    def __init__(
        self, committed: dict[TopicPartition, int], log_start: int = 0, log_end: int = 10_000
    ) -> None:
        self._committed = committed
        self._log_start = log_start
        self._log_end = log_end
        self.seeks: dict[TopicPartition, int] = {}
        self.skipped: list[tuple[TopicPartition, int, str]] = []
        self.fetch_error: Exception | None = None

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks[partition] = offset

    async def committed(self, partition: TopicPartition) -> int | None:
        return self._committed.get(partition)

    async def beginning_offsets(
        self, partitions: list[TopicPartition]
    ) -> dict[TopicPartition, int]:
        return {tp: self._log_start for tp in partitions}

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self._log_end for tp in partitions}

    async def getmany(self, *partitions: TopicPartition, **options: Any) -> dict[Any, Any]:
        if self.fetch_error is not None:
            raise self.fetch_error
        return {}

    def note_skipped(self, tp: TopicPartition, offsets: int, why: str) -> None:
        self.skipped.append((tp, offsets, why))


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

    await positions.resume(
        consumer, db, "finance-service", [read, never_read, known_to_kafka], consumer.note_skipped
    )

    # Known only to Kafka (a database older than its positions): adopted where Kafka says;
    # never read by anyone: from the log's start, by decision.
    assert consumer.seeks == {read: 501, never_read: 3, known_to_kafka: 77}
    # From now on the database knows every partition it was given.
    later = FakeConsumer(committed={})
    await positions.resume(
        later, db, "finance-service", [read, never_read, known_to_kafka], later.note_skipped
    )
    assert later.seeks == consumer.seeks


async def test_a_position_no_longer_on_the_log_goes_on_from_its_nearer_end(db: Database) -> None:
    await processor(db, Behaviour()).process([record(receipt(1).to_bytes(), 500)])  # at 501
    stock = TopicPartition(STOCK, 0)
    # Retention deleted offsets 501 to 799 before anyone read them.
    pruned = FakeConsumer(committed={}, log_start=800, log_end=900)
    await positions.resume(pruned, db, "finance-service", [stock], pruned.note_skipped)
    assert pruned.seeks == {stock: 800}
    assert pruned.skipped == [(stock, 299, "deleted unread")]

    # A broker that lost what it had acknowledged: what arrives next starts at its end.
    lost = FakeConsumer(committed={}, log_start=0, log_end=420)
    await positions.resume(lost, db, "finance-service", [stock], lost.note_skipped)
    assert lost.seeks == {stock: 420}
    assert lost.skipped == [(stock, 81, "past the log's end")]


async def test_a_fetch_out_of_range_moves_on_instead_of_failing_again_and_again() -> None:
    stock = TopicPartition(STOCK, 2)
    consumer = FakeConsumer(committed={}, log_start=40)
    consumer.fetch_error = OffsetOutOfRangeError({stock: 12})
    positions.guard_fetches(consumer, consumer.note_skipped)

    assert await consumer.getmany(timeout_ms=100) == {}
    assert consumer.seeks == {stock: 40}
    assert consumer.skipped == [(stock, 28, "deleted unread")]
