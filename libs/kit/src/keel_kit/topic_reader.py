"""Read a topic from its beginning to its current end, outside any consumer group."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import UnknownTopicOrPartitionError, for_code

from keel_kit.broker_lag import stop_groupless_consumer
from keel_kit.kafka_access import KafkaAccess


async def read_topic(kafka: KafkaAccess, topic: str) -> list[Any]:
    """Every record now on `topic`, partition by partition, oldest first.

    Used for dead letters, by tools and tests: nothing is committed and no group is joined, so
    reading never moves a service's offsets.
    """
    assigned = [TopicPartition(topic, p) for p in await partitions_of(kafka, topic)]
    if not assigned:
        return []
    consumer = AIOKafkaConsumer(**kafka.client_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        records: list[Any] = []
        for tp in assigned:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=2000)
                records.extend(batch.get(tp, []))
        return records
    finally:
        await stop_groupless_consumer(consumer)


async def partitions_of(kafka: KafkaAccess, topic: str) -> list[int]:
    """The topic's partition numbers; empty if the topic does not exist.

    Any other answer (a topic this login may not describe, above all) raises: read as "no
    partitions", it would make a refused read look like an empty topic.
    """
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    code = description["error_code"]
    if code == UnknownTopicOrPartitionError.errno:
        return []
    if code:
        raise for_code(code)(f"describing {topic}")
    return sorted(p["partition"] for p in description["partitions"])
