"""FastStream wiring: a KafkaBroker with safe defaults and one batch subscriber per service.

FastStream's Kafka default acknowledges before the handler runs (at-most-once). Here the
subscriber uses the MANUAL policy: offsets are committed only after the batch's database
transaction committed, and a batch that could not be applied is rewound (nack) to come back.
"""

from __future__ import annotations

import logging
import os
import signal
from typing import Any, Union

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.schemas import Topic
from faststream.middlewares import AckPolicy

from keel_contracts import TOPICS
from keel_kit import positions
from keel_kit.consumer import BatchProcessor
from keel_kit.decoding import Record
from keel_kit.kafka_access import KafkaAccess
from keel_kit.metrics import KitMetrics
from keel_kit.stalls import StallWatch

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_SECONDS = 20.0


def create_broker(kafka: KafkaAccess, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        kafka.bootstrap_servers,
        security=kafka.faststream_security(),
        client_id=client_id,
        enable_idempotence=True,
        allow_auto_create_topics=False,
        graceful_timeout=GRACEFUL_SHUTDOWN_SECONDS,  # stop() lets the in-flight batch finish
        logger=logging.getLogger("faststream"),
    )


def subscribe(
    broker: KafkaBroker,
    *,
    topics: list[str],
    processor: BatchProcessor,
    metrics: KitMetrics,
    stalls: StallWatch,
    batch_size: int,
    max_poll_interval_seconds: float,
    kill_before_offset_commit: bool = False,
) -> None:
    """Attach the service's consumer: all its topics, one group, batches, manual commits."""
    if not topics:
        return

    assignments = _Assignments(metrics, processor)
    subscriber = broker.subscriber(
        *(Topic(name, declare=False) for name in topics),
        group_id=processor.consumer,
        batch=True,
        max_records=batch_size,
        batch_timeout_ms=100,
        # Never let the client pick a position: keel_kit.positions decides on assignment.
        auto_offset_reset="none",
        ack_policy=AckPolicy.MANUAL,
        max_poll_interval_ms=int(max_poll_interval_seconds * 1000),
        session_timeout_ms=10_000,
        heartbeat_interval_ms=2_000,
        listener=assignments,
        title=f"{processor.consumer} consumer",
        decoder=_left_to_the_kit,
    )
    assignments.subscriber = subscriber

    @subscriber
    async def consume(_body: None) -> None:
        # Looked up here, not injected: FastStream resolves an injected message in a worker
        # thread, a thread hop per batch.
        message: KafkaMessage = broker.context.get_local("message")
        raw = message.raw_message
        consumed = tuple(raw) if isinstance(raw, tuple | list) else (raw,)
        records = [_record(r) for r in consumed]
        metrics.batch_records.observe(len(records))
        partitions = [(r.topic, r.partition) for r in records]
        try:
            applied = await processor.process(records)
        except Exception:
            log.exception("batch of %d not applied; rewinding to retry later", len(records))
            stalls.failed(partitions)
            await message.nack()
            return
        stalls.moved(partitions)
        if kill_before_offset_commit and applied:
            # Fault injection for the crash-recovery test: the database has committed, the
            # offsets have not. Only ever set by tests (KEEL_FAULT_KILL_BEFORE_OFFSET_COMMIT).
            os.kill(os.getpid(), signal.SIGKILL)
        try:
            await message.ack()
        except (CommitFailedError, KafkaError):
            # Lost the partitions in a rebalance: the next owner replays, the inbox dedupes.
            log.warning("offset commit failed after a rebalance; replay will be deduplicated")
        _record_lag(consumed, metrics)


async def _left_to_the_kit(_message: Any) -> None:
    """FastStream's own decoding would parse each record's JSON for a body nobody reads: the
    kit reads the raw records (`keel_kit.decoding`), once."""
    return None


class _Assignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """Resumes each assigned partition where the database says, and keeps
    `keel_consumer_partitions` equal to the partitions this replica owns."""

    def __init__(self, metrics: KitMetrics, processor: BatchProcessor) -> None:
        self._metrics = metrics
        self._processor = processor
        self.subscriber: Any = None  # set once the subscriber exists; its consumer on start
        self._guarded: Any = None  # the consumer whose fetches guard_fetches watches

    def _skipped(self, tp: TopicPartition, offsets: int, why: str) -> None:
        labels = {"topic": tp.topic, "partition": str(tp.partition), "why": why}
        self._metrics.offsets_skipped.labels(**labels).inc(offsets)

    async def on_partitions_revoked(self, revoked: Any) -> None:
        for tp in revoked:
            self._metrics.assigned_partitions.labels(topic=tp.topic).dec()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        consumer = self.subscriber.consumer
        if consumer is not self._guarded:
            positions.guard_fetches(consumer, self._skipped)
            self._guarded = consumer
        # Nothing is handed out from these partitions until they stand where the database says:
        # the client fetches from the broker's committed offset meanwhile, and a batch applied
        # from there and then rewound by the seek would be applied twice (a dead letter, which
        # no inbox dedupes, written twice).
        consumer.pause(*assigned)
        try:
            await positions.resume(
                consumer, self._processor.db, self._processor.consumer, assigned, self._skipped
            )
        finally:
            consumer.resume(*assigned)
        for tp in assigned:
            self._metrics.assigned_partitions.labels(topic=tp.topic).inc()


def _record(raw: Any) -> Record:
    return Record(
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        key=raw.key,
        value=raw.value or b"",
        headers=tuple(raw.headers or ()),
    )


def _record_lag(consumed: tuple[Any, ...], metrics: KitMetrics) -> None:
    last: dict[tuple[str, int], Any] = {}
    for raw in consumed:
        last[(raw.topic, raw.partition)] = raw
    for (topic, partition), raw in last.items():
        consumer = getattr(raw, "consumer", None)
        highwater = consumer.highwater(TopicPartition(topic, partition)) if consumer else None
        if highwater is not None:
            lag = max(0, highwater - raw.offset - 1)
            metrics.consumer_lag.labels(topic=topic, partition=str(partition)).set(lag)


def document_publications(broker: KafkaBroker, service: str) -> None:
    """Declare the topics this service publishes (through its outbox) for the AsyncAPI document.

    The relay, not FastStream, sends them; these publishers exist only to describe the contract.
    """
    for spec in TOPICS:
        if spec.owner != service or not spec.messages or spec.name.endswith(".commands.v1"):
            continue
        names = ", ".join(m.type for m in spec.messages)
        broker.publisher(
            Topic(spec.name, declare=False),
            title=f"{spec.name} (published)",
            description=f"Keyed by {spec.key}. Each payload travels in the Keel envelope "
            f"(event_id, type, occurred_at, correlation_id, causation_id, traceparent). "
            f"Types: {names}.",
            schema=Union[spec.messages],  # noqa: UP007  (a runtime-built union of models)
        )
