"""On the real broker, an outbox row it can never accept is parked with its reason and the rows
behind it are delivered: refused by the producer itself (over 1 MiB) or by the broker (over the
topic's max.message.bytes)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlmodel import col, select

from keel_kit.db import Database
from keel_kit.kafka_access import KafkaAccess
from keel_kit.metrics import KitMetrics
from keel_kit.outbox import Outbox
from keel_kit.relay import OutboxRelay
from keel_kit.tables import OutboxParked, OutboxRecord
from keel_kit.topic_reader import read_topic
from tests.conftest import Infra
from tests.integration.kit_schema import create_kit_tables

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def create_topic(bootstrap: str, name: str, config: dict[str, str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs=config)])
    finally:
        await admin.close()


async def stage(db: Database, topic: str, bodies: list[bytes]) -> list[str]:
    outbox, event_ids = Outbox("parking-test"), [str(uuid.uuid4()) for _ in bodies]
    async with db.transaction() as session:
        for event_id, body in zip(event_ids, bodies, strict=True):
            outbox.add_raw(
                session,
                topic=topic,
                key="same-key",  # one key: the rows behind the refused one are its own
                event_id=event_id,
                type="test.parking",
                body=body,
                headers={},
            )
    return event_ids


async def run_relay_until_drained(db: Database, bootstrap: str, metrics: KitMetrics) -> None:
    relay = OutboxRelay(
        db=db,
        outbox=Outbox("parking-test"),
        kafka=KafkaAccess(bootstrap),
        client_id="parking-test",
        metrics=metrics,
        batch_size=100,
    )
    running = asyncio.create_task(relay.run())
    try:
        deadline = time.monotonic() + 60
        while True:
            async with db.transaction() as session:
                if not (await session.exec(select(OutboxRecord.id).limit(1))).first():
                    return
            assert time.monotonic() < deadline, "the outbox never drained"
            await asyncio.sleep(0.2)
    finally:
        relay.stop()
        await asyncio.wait_for(running, timeout=30)


async def parked_rows(db: Database) -> list[OutboxParked]:
    async with db.transaction() as session:
        query = select(OutboxParked).order_by(col(OutboxParked.id))
        return list((await session.exec(query)).all())


def small(n: int) -> bytes:
    return json.dumps({"n": n}).encode()


@pytest.mark.parametrize(
    ("topic_config", "too_large"),
    [
        pytest.param({}, b"x" * (2 * 1024 * 1024), id="over-the-producer-limit"),
        pytest.param({"max.message.bytes": "2048"}, b"x" * 8192, id="over-the-topic-limit"),
    ],
)
async def test_row_the_broker_never_accepts_is_parked_and_the_rows_behind_it_arrive(
    infra: Infra, topic_config: dict[str, str], too_large: bytes
) -> None:
    database_url = infra.new_database("parking")
    await create_kit_tables(database_url)
    topic = f"test.parking-{uuid.uuid4().hex[:8]}.v1"
    await create_topic(infra.bootstrap, topic, topic_config)
    db, metrics = Database(database_url), KitMetrics("parking-test")
    try:
        _, refused, _, _ = await stage(db, topic, [small(1), too_large, small(3), small(4)])
        await run_relay_until_drained(db, infra.bootstrap, metrics)
        (row,) = await parked_rows(db)
    finally:
        await db.dispose()

    assert row.event_id == refused
    assert "MessageSizeTooLargeError" in row.reason
    assert row.body == too_large
    assert metrics.registry.get_sample_value("keel_outbox_parked") == 1
    delivered = [
        json.loads(record.value)["n"] if record.value != too_large else "the refused row"
        for record in await read_topic(infra.kafka, topic)
    ]
    # Each small row (at least once: the row before may have been retried alongside the
    # refused one), first occurrences in order, and the refused row never.
    assert [n for i, n in enumerate(delivered) if n not in delivered[:i]] == [1, 3, 4]
