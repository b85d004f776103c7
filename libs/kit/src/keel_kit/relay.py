"""The outbox relay: publishes committed outbox rows in order, in batches, and survives outages.

Rows are read in id order, sent as one pipelined batch through an idempotent producer
(acks=all), and deleted only after every send in the batch was acknowledged. A failure leaves
the rows in place and the relay retries with backoff, so a broker outage delays messages but
never loses them. With PostgreSQL, one relay per database holds an advisory lock, so replicas
of a service cannot publish the same rows out of order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import delete, func, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select

from keel_kit import telemetry
from keel_kit.db import Database
from keel_kit.metrics import KitMetrics
from keel_kit.outbox import Outbox
from keel_kit.tables import OutboxRecord

log = logging.getLogger(__name__)

RELAY_LOCK_ID = 0x6B65656C  # "keel": one relay per service database publishes at a time
IDLE_POLL_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 5.0


def create_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    """The only producer settings Keel uses: idempotent, acks=all, small linger for batching."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        request_timeout_ms=10_000,
        compression_type=None,
    )


class OutboxRelay:
    def __init__(
        self,
        *,
        db: Database,
        outbox: Outbox,
        bootstrap_servers: str,
        client_id: str,
        metrics: KitMetrics,
        batch_size: int,
        producer_factory: Callable[[str, str], AIOKafkaProducer] = create_producer,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._producer_factory = producer_factory
        self._metrics = metrics
        self._batch_size = batch_size
        self._producer: AIOKafkaProducer | None = None
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Publish until stopped; on stop, flush what is already committed (best effort)."""
        backoff = 0.1
        async with self._leadership():
            while not self._stopping.is_set():
                try:
                    published = await self.publish_batch()
                    backoff = 0.1
                except Exception as error:
                    self._metrics.relay_errors.inc()
                    # A broker outage is expected and says enough in one line; anything else
                    # deserves its traceback.
                    log.warning(
                        "outbox relay batch failed (%s); retrying in %.1fs",
                        error,
                        backoff,
                        exc_info=not isinstance(error, KafkaError),
                    )
                    await self._close_producer()
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
                if published < self._batch_size:
                    await self._wait_for_work()
            await self._flush()
        await self._close_producer()

    def stop(self) -> None:
        self._stopping.set()
        self._outbox.pending.set()

    async def publish_batch(self) -> int:
        """Publish the oldest committed rows; returns how many went out."""
        async with self._db.transaction() as session:
            rows = (
                await session.exec(
                    select(OutboxRecord).order_by(OutboxRecord.id).limit(self._batch_size)
                )
            ).all()
            backlog = len(rows)
            if backlog == self._batch_size:  # count only when there is more than one batch
                backlog = await session.scalar(select(func.count()).select_from(OutboxRecord)) or 0
        self._metrics.outbox_backlog.set(backlog)
        if not rows:
            return 0
        producer = await self._ensure_producer()
        futures = []
        for row in rows:
            headers = dict(row.headers)
            headers["traceparent"] = telemetry.child_traceparent(
                f"{row.topic} publish",
                parent=headers.get("traceparent"),
                attributes={
                    "messaging.destination.name": row.topic,
                    "messaging.message.id": row.event_id,
                },
            ) or headers.get("traceparent", "")
            futures.append(
                await producer.send(
                    row.topic,
                    value=row.body,
                    key=row.key.encode(),
                    headers=[(k, str(v).encode()) for k, v in headers.items() if v],
                )
            )
        await asyncio.gather(*futures)
        ids = [row.id for row in rows]
        async with self._db.transaction() as session:
            await session.exec(delete(OutboxRecord).where(OutboxRecord.id.in_(ids)))
        for row in rows:
            self._metrics.outbox_published.labels(topic=row.topic).inc()
        self._metrics.outbox_backlog.set(backlog - len(rows))
        return len(rows)

    async def _flush(self) -> None:
        if self._producer is None:
            return  # the broker is away: committed rows wait in the outbox for the next start
        try:
            async with asyncio.timeout(10):
                while await self.publish_batch():
                    pass
        except Exception:
            log.warning(
                "outbox relay could not flush before shutdown; rows stay for next start",
                exc_info=True,
            )

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._producer_factory(self._bootstrap, self._client_id)
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _wait_for_work(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox.pending.wait(), IDLE_POLL_SECONDS)
        self._outbox.pending.clear()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    @contextlib.asynccontextmanager
    async def _leadership(self) -> Any:
        """Hold the relay lock for the relay's lifetime (PostgreSQL); SQLite has one writer."""
        if self._db.is_sqlite:
            yield
            return
        connection: AsyncConnection | None = None
        while not self._stopping.is_set():
            try:
                connection = await self._db.engine.connect()
                got = await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:id)"), {"id": RELAY_LOCK_ID}
                )
                await connection.commit()
                if got:
                    break
                await connection.close()
                connection = None
            except Exception:
                log.warning("relay could not take its lock; retrying", exc_info=True)
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
                    connection = None
            await self._sleep(2.0)
        try:
            yield
        finally:
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
