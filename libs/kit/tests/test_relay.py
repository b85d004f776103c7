from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from keel_contracts import Envelope
from keel_kit.db import Database
from keel_kit.kafka_access import KafkaAccess
from keel_kit.metrics import KitMetrics
from keel_kit.outbox import Outbox
from keel_kit.relay import OutboxRelay
from kit_fixtures import outbox_rows, stock_received

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]


class FakeProducer:
    """Records what was sent; can be told to fail like a broker that went away."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes, dict[str, bytes]]] = []
        self.fail = False

    async def start(self) -> None:
        if self.fail:
            raise KafkaConnectionError("broker away")

    async def stop(self) -> None:
        pass

    async def send(self, topic: str, *, value: bytes, key: bytes, headers: Any) -> Any:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fail:
            future.set_exception(KafkaConnectionError("broker away"))
        else:
            self.sent.append((topic, key, value, dict(headers)))
            future.set_result(None)
        return future


def relay(db: Database, outbox: Outbox, producer: FakeProducer) -> OutboxRelay:
    return OutboxRelay(
        db=db,
        outbox=outbox,
        kafka=KafkaAccess("unused:9092"),
        client_id="test",
        metrics=KitMetrics("inventory"),
        batch_size=100,
        producer_factory=lambda _bootstrap, _client: producer,
    )


async def stage(db: Database, outbox: Outbox, count: int) -> list[Envelope]:
    async with db.transaction() as session:
        return [
            outbox.add(session, stock_received(quantity), key="SKU-1")
            for quantity in range(1, count + 1)
        ]


async def test_rows_are_published_in_commit_order_then_deleted(db: Database) -> None:
    outbox, producer = Outbox("inventory"), FakeProducer()
    staged = await stage(db, outbox, 3)

    assert await relay(db, outbox, producer).publish_batch() == 3

    assert [Envelope.from_bytes(value).event_id for _, _, value, _ in producer.sent] == [
        e.event_id for e in staged
    ]
    assert {topic for topic, _, _, _ in producer.sent} == {"inventory.stock.v1"}
    assert all(key == b"SKU-1" for _, key, _, _ in producer.sent)
    assert await outbox_rows(db) == []


async def test_failed_publish_keeps_every_row_for_the_next_attempt(db: Database) -> None:
    outbox, producer = Outbox("inventory"), FakeProducer()
    await stage(db, outbox, 2)
    producer.fail = True
    with pytest.raises(KafkaConnectionError):
        await relay(db, outbox, producer).publish_batch()
    assert len(await outbox_rows(db)) == 2

    producer.fail = False
    assert await relay(db, outbox, producer).publish_batch() == 2
    assert await outbox_rows(db) == []


async def test_commit_wakes_the_relay(db: Database) -> None:
    outbox = Outbox("inventory")
    assert not outbox.pending.is_set()
    await stage(db, outbox, 1)
    assert outbox.pending.is_set()


async def test_run_leads_and_leaves_nothing_committed_behind_when_stopped(db: Database) -> None:
    outbox, producer, metrics = Outbox("inventory"), FakeProducer(), KitMetrics("inventory")
    publisher = OutboxRelay(
        db=db,
        outbox=outbox,
        kafka=KafkaAccess("unused:9092"),
        client_id="test",
        metrics=metrics,
        batch_size=100,
        producer_factory=lambda _bootstrap, _client: producer,
    )
    running = asyncio.create_task(publisher.run())
    await stage(db, outbox, 2)
    for _ in range(100):
        if len(producer.sent) == 2:
            break
        await asyncio.sleep(0.01)
    leader_while_running = metrics.registry.get_sample_value("keel_relay_leader")
    await stage(db, outbox, 1)  # committed just before the stop: sent before run() returns
    publisher.stop()
    await asyncio.wait_for(running, timeout=5)

    assert leader_while_running == 1  # SQLite has one writer: the relay always leads
    assert len(producer.sent) == 3
    assert await outbox_rows(db) == []
    assert metrics.registry.get_sample_value("keel_relay_leader") == 0
