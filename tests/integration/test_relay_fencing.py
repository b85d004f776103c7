"""Two relays on one outbox through a database restart: one publisher at a time, per-key order,
no gap.

The restart is simulated the way clients see one: every backend of the test's database is
terminated (the shared PostgreSQL server keeps running for the other tests).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import func
from sqlmodel import select

from keel_kit.db import Database
from keel_kit.kafka_access import KafkaAccess
from keel_kit.metrics import KitMetrics
from keel_kit.outbox import Outbox
from keel_kit.relay import OutboxRelay, create_producer
from keel_kit.tables import OutboxRecord
from keel_kit.topic_reader import read_topic
from tests.conftest import Infra
from tests.integration.kit_schema import create_kit_tables

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

KEYS = [f"key-{n}" for n in range(6)]
WRITE_SECONDS = 6.0
RESTART_AFTER_SECONDS = 2.5


@dataclass(frozen=True)
class PublishedBatch:
    relay: str
    started: float
    ended: float


class RecordingRelay(OutboxRelay):
    """A relay that notes when each of its batches that reached the producer ran."""

    def __init__(self, name: str, timeline: list[PublishedBatch], **kwargs: Any) -> None:
        super().__init__(producer_factory=self._counting_producer, **kwargs)
        self.name = name
        self.sends = 0
        self._timeline = timeline

    def _counting_producer(self, kafka: KafkaAccess, client_id: str) -> AIOKafkaProducer:
        return _CountingProducer(create_producer(kafka, client_id), self)

    async def publish_batch(self) -> int:
        sends_before, started = self.sends, time.monotonic()
        try:
            return await super().publish_batch()
        finally:
            # Counted even when the batch failed after sending (its delete hit the restart).
            if self.sends > sends_before:
                self._timeline.append(PublishedBatch(self.name, started, time.monotonic()))


class _CountingProducer:
    def __init__(self, inner: AIOKafkaProducer, relay: RecordingRelay) -> None:
        self._inner = inner
        self._relay = relay

    async def start(self) -> None:
        await self._inner.start()

    async def stop(self) -> None:
        await self._inner.stop()

    async def send(self, topic: str, **kwargs: Any) -> Any:
        self._relay.sends += 1
        return await self._inner.send(topic, **kwargs)


def sequenced_event_id(key: str, seq: int) -> str:
    """The same (key, seq) always gets the same event id, so a retried insert is a duplicate."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"keel-fencing/{key}/{seq}"))


async def write_continuously(db: Database, topic: str, until: float) -> dict[str, int]:
    """One transaction per round, a row per key with the key's next sequence number; a round
    that fails (the restart) is retried with the same numbers. Returns each key's last seq."""
    outbox = Outbox("fencing-test")
    seq = 0
    while time.monotonic() < until:
        seq += 1
        while True:
            try:
                async with db.transaction() as session:
                    for key in KEYS:
                        outbox.add_raw(
                            session,
                            topic=topic,
                            key=key,
                            event_id=sequenced_event_id(key, seq),
                            type="test.sequenced",
                            body=json.dumps({"key": key, "seq": seq}).encode(),
                            headers={},
                        )
                break
            except Exception:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.01)
    return dict.fromkeys(KEYS, seq)


async def restart_database(server_url: str, database_url: str) -> int:
    """Terminate every backend of the database, and wait until each has exited: what its
    clients see when the server restarts."""
    name = database_url.rsplit("/", 1)[1]
    dsn = server_url.replace("postgresql+asyncpg://", "postgresql://") + "/postgres"
    connection = await asyncpg.connect(dsn)
    try:
        terminated: int = await connection.fetchval(
            # The timeout makes each termination wait until the backend has exited.
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()) AS killed",
            name,
        )
    finally:
        await connection.close()
    return terminated


async def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


async def wait_until_drained(db: Database, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            async with db.transaction() as session:
                left = await session.scalar(select(func.count()).select_from(OutboxRecord))
            if left == 0:
                return
        except Exception:
            pass  # the writer's pool may still hold a connection the restart killed
        await asyncio.sleep(0.2)
    raise AssertionError(f"outbox not drained after {within:.0f}s")


async def wait_for_leader(metrics: KitMetrics, within: float) -> None:
    deadline = time.monotonic() + within
    while metrics.registry.get_sample_value("keel_relay_leader") != 1:
        assert time.monotonic() < deadline, "the first relay never took the lock"
        await asyncio.sleep(0.05)


async def test_two_relays_through_a_database_restart_publish_in_order_one_at_a_time(
    infra: Infra,
) -> None:
    database_url = infra.new_database("fencing")
    await create_kit_tables(database_url)
    topic = f"test.fencing-{uuid.uuid4().hex[:8]}.v1"
    await create_topic(infra.bootstrap, topic, partitions=3)

    timeline: list[PublishedBatch] = []
    databases = [Database(database_url) for _ in range(2)]  # one each, like two processes
    metrics = [KitMetrics("fencing-test") for _ in range(2)]
    relays = [
        RecordingRelay(
            name,
            timeline,
            db=db,
            outbox=Outbox("fencing-test"),
            kafka=infra.kafka,
            client_id=f"fencing-{name}",
            metrics=relay_metrics,
            batch_size=50,
            # relay-b asks for the lock all the time, so that it, not relay-a coming back
            # after the restart, becomes the next leader.
            lock_retry_seconds=retry,
        )
        for name, db, relay_metrics, retry in zip(
            ("relay-a", "relay-b"), databases, metrics, (2.0, 0.02), strict=True
        )
    ]
    writer_db = Database(database_url)
    tasks = [asyncio.create_task(relays[0].run())]
    try:
        await wait_for_leader(metrics[0], within=10)
        tasks.append(asyncio.create_task(relays[1].run()))
        writing = asyncio.create_task(
            write_continuously(writer_db, topic, until=time.monotonic() + WRITE_SECONDS)
        )
        await asyncio.sleep(RESTART_AFTER_SECONDS)
        restart_began = time.monotonic()
        terminated = await restart_database(infra.postgres_url, database_url)
        restart_ended = time.monotonic()
        last_seq = await writing
        await wait_until_drained(writer_db, within=60)
    finally:
        for relay in relays:
            relay.stop()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)
        for db in [*databases, writer_db]:
            await db.dispose()

    # The restart reached the relays (relay-a held at least its lock connection).
    assert terminated >= 1

    # Every row arrived, and per key the first occurrences run 1, 2, 3 ... with no gap.
    first_seen: dict[str, list[int]] = defaultdict(list)
    for record in await read_topic(infra.kafka, topic):
        message = json.loads(record.value)
        assert record.key.decode() == message["key"]
        if message["seq"] not in first_seen[message["key"]]:
            first_seen[message["key"]].append(message["seq"])
    for key in KEYS:
        assert first_seen[key] == list(range(1, last_seq[key] + 1)), key

    # Leadership moved: relay-a published before the restart, relay-b after it, and relay-a,
    # whose lock died with the restart, never again. While the backends are being terminated
    # either may still start a batch: relay-a's lock lives until its backend has exited.
    before = {batch.relay for batch in timeline if batch.started < restart_began}
    after = {batch.relay for batch in timeline if batch.started > restart_ended}
    assert before == {"relay-a"}
    assert after == {"relay-b"}
    # One publisher at a time: sorted by start, every batch began after the previous one ended.
    timeline.sort(key=lambda batch: batch.started)
    overlaps = [
        (earlier, later)
        for earlier, later in itertools.pairwise(timeline)
        if later.started < earlier.ended
    ]
    assert overlaps == []
