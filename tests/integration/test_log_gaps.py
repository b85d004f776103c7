"""On the real broker: a consumer whose position is no longer on the log (retention deleted what
it had not read) goes on from the log's start, with the gap counted, instead of failing the same
fetch forever (its client's reset policy is none, as every Keel consumer's)."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic, RecordsToDelete

from keel_kit import positions
from tests.conftest import Infra

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def a_pruned_topic(bootstrap: str, *, records: int, deleted_before: int) -> str:
    """A new one-partition topic holding `records`, of which retention (as delete_records
    does it) took those before `deleted_before`."""
    name = f"test.gaps.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await admin.start()
    await producer.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
        for n in range(records):
            await producer.send_and_wait(name, str(n).encode())
        tp = TopicPartition(name, 0)
        await admin.delete_records({tp: RecordsToDelete(before_offset=deleted_before)})
    finally:
        await producer.stop()
        await admin.close()
    return name


async def test_a_fetch_below_the_log_start_goes_on_from_there(infra: Infra) -> None:
    topic = await a_pruned_topic(infra.bootstrap, records=10, deleted_before=6)
    tp = TopicPartition(topic, 0)
    skipped: list[tuple[TopicPartition, int, str]] = []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=infra.bootstrap, enable_auto_commit=False, auto_offset_reset="none"
    )
    await consumer.start()
    try:
        positions.guard_fetches(consumer, lambda *gap: skipped.append(gap))
        consumer.assign([tp])
        consumer.seek(tp, 2)  # where this consumer's database last stood

        values: list[bytes] = []
        for _ in range(20):
            batch = await consumer.getmany(tp, timeout_ms=500)
            values += [r.value or b"" for r in batch.get(tp, [])]
            if len(values) >= 4:
                break
    finally:
        await consumer.stop()

    assert values == [b"6", b"7", b"8", b"9"]
    assert skipped == [(tp, 4, "deleted unread")]
