"""Raw Kafka access: messages produced around the services, records read back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer

from keel_kit.kafka_access import KafkaAccess
from keel_kit.topic_reader import read_topic


async def produce(
    bootstrap: str, topic: str, value: bytes, *, key: str, headers: dict[str, str] | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            value=value,
            key=key.encode(),
            headers=[(k, v.encode()) for k, v in (headers or {}).items()],
        )
    finally:
        await producer.stop()


async def produce_many(bootstrap: str, topic: str, messages: list[tuple[str, bytes]]) -> None:
    """Send (key, value) pairs in one pipelined batch."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k.encode()) for k, v in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def find_record(bootstrap: str, topic: str, predicate: Callable[[bytes], bool]) -> Any:
    """The first record on `topic` whose value satisfies `predicate`."""
    for record in await read_topic(KafkaAccess(bootstrap), topic):
        if predicate(record.value or b""):
            return record
    return None
