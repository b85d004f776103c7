"""How far a consumer group is behind on a topic, asked of the broker.

Lag per partition = the broker's end offset minus the group's committed offset (the offset of
the next message to apply; the kit commits it only after the batch's transaction committed). A
partition the group never committed on starts at its first offset (`auto_offset_reset` is
earliest). Two long-lived clients do the asking: an admin client for the group's offsets and
the topic's partitions, and a consumer outside every group for the end offsets; they start on
first use and start afresh after a failure. This runs only when a reference is missing, so a
couple of round trips per question are fine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from keel_kit.kafka_access import KafkaAccess

log = logging.getLogger(__name__)


class BrokerLag:
    """`group`'s lag on a topic, asked of the broker `kafka` reaches.

    A partition found behind is remembered for `remember_seconds` (its lag can only have
    shrunk, and a retry is due anyway); a caught-up partition is always asked afresh, because
    the caller needs a measurement taken after it looked. A broker that cannot be asked within
    `timeout` seconds gives None ("cannot tell") and is not asked again for `remember_seconds`.
    """

    def __init__(
        self,
        kafka: KafkaAccess,
        group: str,
        *,
        timeout: float = 2.0,
        remember_seconds: float = 1.0,
    ) -> None:
        self.kafka = kafka
        self.group = group
        self.timeout = timeout
        self.remember_seconds = remember_seconds
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._starting = asyncio.Lock()
        self._partitions: dict[str, list[int]] = {}
        self._behind: dict[TopicPartition, tuple[float, int]] = {}  # -> (measured at, lag)
        self._unreachable_until = 0.0

    async def lag(self, topic: str, keys: Collection[str] | None = None) -> int | None:
        """Messages of `topic` not yet applied by the group: on the partitions the `keys` are
        published on (Kafka's default partitioner, as the outbox relay uses), or on all of them.
        None when the broker cannot be asked."""
        now = time.monotonic()
        if now < self._unreachable_until:
            return None
        try:
            async with asyncio.timeout(self.timeout):
                partitions = await self._partitions_of(topic, keys)
                remembered = self._remembered_behind(partitions, now)
                if remembered:
                    return remembered
                lags = await self._measure(partitions)
        except Exception as error:
            await self._cannot_tell(topic, error)
            return None
        for tp, lag in lags.items():
            if lag > 0:
                self._behind[tp] = (now, lag)
        return sum(lags.values())

    async def partition_lags(self, topic: str) -> dict[int, int] | None:
        """The lag of each of `topic`'s partitions, measured now; None when the broker cannot
        be asked. For the metrics, which must show a consumer that stopped committing."""
        if time.monotonic() < self._unreachable_until:
            return None
        try:
            async with asyncio.timeout(self.timeout):
                lags = await self._measure(await self._partitions_of(topic, None))
        except Exception as error:
            await self._cannot_tell(topic, error)
            return None
        return {tp.partition: lag for tp, lag in lags.items()}

    async def _cannot_tell(self, topic: str, error: Exception) -> None:
        log.warning("cannot tell %s's lag on %s: %r", self.group, topic, error)
        self._unreachable_until = time.monotonic() + self.remember_seconds
        await self._reset()

    async def close(self) -> None:
        await self._reset()

    def _remembered_behind(self, partitions: list[TopicPartition], now: float) -> int:
        total = 0
        for tp in partitions:
            measured_at, lag = self._behind.get(tp, (0.0, 0))
            if now - measured_at < self.remember_seconds:
                total += lag
        return total

    async def _partitions_of(
        self, topic: str, keys: Collection[str] | None
    ) -> list[TopicPartition]:
        admin, _ = await self._clients()
        if topic not in self._partitions:
            (description,) = await admin.describe_topics([topic])
            if description["error_code"]:
                raise LookupError(f"topic {topic}: error code {description['error_code']}")
            self._partitions[topic] = sorted(p["partition"] for p in description["partitions"])
        numbers = self._partitions[topic]
        if keys is not None:
            partitioner = DefaultPartitioner()
            numbers = sorted({partitioner(key.encode(), numbers, numbers) for key in keys})
        return [TopicPartition(topic, n) for n in numbers]

    async def _measure(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        if not partitions:
            return {}
        admin, consumer = await self._clients()
        committed = await admin.list_consumer_group_offsets(self.group, partitions=partitions)
        ends = await consumer.end_offsets(partitions)
        never_committed = [
            tp for tp in partitions if tp not in committed or committed[tp].offset < 0
        ]
        starts = await consumer.beginning_offsets(never_committed) if never_committed else {}
        return {
            tp: max(0, ends[tp] - (starts[tp] if tp in starts else committed[tp].offset))
            for tp in partitions
        }

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        async with self._starting:
            if self._admin is None or self._consumer is None:
                timeout_ms = int(self.timeout * 1000)
                admin = AIOKafkaAdminClient(
                    **self.kafka.client_options(),
                    client_id=f"{self.group}-catchup",
                    request_timeout_ms=timeout_ms,
                )
                consumer = AIOKafkaConsumer(
                    **self.kafka.client_options(),
                    client_id=f"{self.group}-catchup",
                    enable_auto_commit=False,
                    request_timeout_ms=timeout_ms,
                )
                try:
                    await admin.start()
                    await consumer.start()
                except BaseException:
                    await _close(admin, consumer)
                    raise
                self._admin, self._consumer = admin, consumer
            return self._admin, self._consumer

    async def _reset(self) -> None:
        admin, consumer = self._admin, self._consumer
        self._admin = self._consumer = None
        await _close(admin, consumer)


async def _close(admin: AIOKafkaAdminClient | None, consumer: AIOKafkaConsumer | None) -> None:
    if admin is not None:
        with contextlib.suppress(Exception):
            await admin.close()
    if consumer is not None:
        try:
            await stop_groupless_consumer(consumer)
        except Exception:
            log.debug("catch-up consumer did not stop cleanly", exc_info=True)


async def stop_groupless_consumer(consumer: AIOKafkaConsumer) -> None:
    """Stop a consumer that joined no group (it reads by assignment)."""
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        # aiokafka issue 647: a group-less consumer's stop() re-raises the cancellation of its
        # own helper task. Swallow only that one; a cancellation aimed at us goes on.
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
