"""The outbox relay: publishes committed outbox rows in order, in batches, and survives outages.

Rows are read in id order, sent as one pipelined batch through an idempotent producer
(acks=all), and deleted only after the broker acknowledged them. A transient failure leaves the
rows in place and the relay retries with backoff, so a broker outage delays messages but never
loses them. A row the broker can never accept is parked (`keel_kit.parked`) so the rows behind
it flow on.

Fencing. With PostgreSQL the replicas of a service share one outbox, and only the holder of
the relay lock publishes: a session advisory lock on a connection of its own. Before every batch
the relay asks that same connection whether its backend still holds the lock. A database restart
kills the connection and the lock with it, and another replica may take the lock; the old
leader's next check fails (the connection is dead), so it stops publishing, closes its producer
and competes for the lock again like any other replica. SQLite has a single writer: no lock.

The window left: the check and the sends are not atomic (Kafka and PostgreSQL share no
transaction). If the database dies between the check and the end of the sends, the rows already
read are still handed to the producer, while the next leader reads the same rows (nothing was
deleted) and publishes them again; for at most one batch's sends (bounded by the producer's
request timeout) two relays publish at once. That gives duplicates, which consumers drop by
event_id, and never reorders a key: each relay sends one run of rows in id order and a row
leaves the table only once acknowledged, so before a row's first copy on the topic stands every
earlier row of its key (acknowledged already, or earlier in that run). Closing the window would
take Kafka-side fencing (a transactional producer whose epoch the next leader bumps), which
would also need every consumer to read committed only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import delete, func, select

from keel_kit import parked, telemetry
from keel_kit.db import Database, one_of
from keel_kit.kafka_access import KafkaAccess
from keel_kit.metrics import KitMetrics
from keel_kit.outbox import Outbox
from keel_kit.relay_lock import RelayLock
from keel_kit.tables import OUTBOX, OutboxRow

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 0.5
LOCK_RETRY_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 5.0
# The rows in the order they were written, read as plain rows (see OutboxRow).
_OLDEST = select(*(OUTBOX.c[name] for name in OutboxRow._fields)).order_by(OUTBOX.c.id)


def create_producer(kafka: KafkaAccess, client_id: str) -> AIOKafkaProducer:
    """The only producer settings Keel uses: idempotent, acks=all, small linger for batching."""
    return AIOKafkaProducer(
        **kafka.client_options(),
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        request_timeout_ms=10_000,
        compression_type=None,
    )


class BatchFailed(Exception):
    """Some rows of a batch were not published; they stay in the outbox for the next attempt."""


class OutboxRelay:
    """Publishes one service's outbox; see the module's docstring for order and fencing."""

    def __init__(
        self,
        *,
        db: Database,
        outbox: Outbox,
        kafka: KafkaAccess,
        client_id: str,
        metrics: KitMetrics,
        batch_size: int,
        producer_factory: Callable[[KafkaAccess, str], AIOKafkaProducer] = create_producer,
        lock_retry_seconds: float = LOCK_RETRY_SECONDS,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._kafka = kafka
        self._client_id = client_id
        self._producer_factory = producer_factory
        self._metrics = metrics
        self._batch_size = batch_size
        self._producer: AIOKafkaProducer | None = None
        self._lock = RelayLock(db)
        self._lock_retry_seconds = lock_retry_seconds
        self._stopping = asyncio.Event()
        # A broker-side permanent error names the producer's batch, which may hold several
        # rows: until the relay is past the last suspect row, it sends rows one at a time, so
        # the one row at fault is the one parked.
        self._one_at_a_time_through: int | None = None
        self._more_waiting = False  # the last batch left rows behind: no need to wait for work

    async def run(self) -> None:
        """Publish while holding the relay lock, compete for it again whenever it is lost; on
        stop, flush what is already committed (best effort, and only as the lock holder)."""
        while await self._acquire_lock():
            self._metrics.relay_leader.set(1)
            try:
                await self._refresh_parked_gauge()
                await self._publish_while_leader()
            finally:
                self._metrics.relay_leader.set(0)
                await self._close_producer()
                await self._lock.release()
            # Lost, not stopped: step back one retry interval, so that a replica whose
            # connection just failed does not grab the lock again in a tight loop while the
            # database recovers, and the others get their turn.
            await self._sleep(self._lock_retry_seconds)

    def stop(self) -> None:
        self._stopping.set()
        self._outbox.pending.set()

    async def publish_batch(self) -> int:
        """Publish the oldest committed rows; returns how many left the outbox (published or
        parked). Raises BatchFailed (or the error) when some rows must be tried again."""
        rows, backlog = await self._read_batch()
        self._metrics.outbox_backlog.set(backlog)
        self._more_waiting = backlog > len(rows)
        if not rows:
            return 0
        producer = await self._ensure_producer()
        handed: list[tuple[OutboxRow, Awaitable[Any]]] = []
        to_park: list[tuple[OutboxRow, str]] = []
        stopped_by: BaseException | None = None
        for row in rows:
            try:
                handed.append((row, await self._send(producer, row)))
            except Exception as error:
                if not parked.is_permanent(error):
                    stopped_by = error  # nothing after this row may overtake it
                    break
                to_park.append((row, parked.reason_for(error)))  # refused before it left
        outcomes = await asyncio.gather(*(ack for _, ack in handed), return_exceptions=True)
        published: list[OutboxRow] = []
        retry_alone: list[OutboxRow] = []
        for (row, _), outcome in zip(handed, outcomes, strict=True):
            if not isinstance(outcome, BaseException):
                published.append(row)
            elif not parked.is_permanent(outcome):
                stopped_by = stopped_by or outcome
            elif len(rows) == 1:
                to_park.append((row, parked.reason_for(outcome)))
                # The producer numbered the refused batch; the broker never took that number,
                # so the next send would fail out of sequence. A new producer starts afresh.
                await self._close_producer()
            else:
                retry_alone.append(row)
        await self._settle(published, to_park)
        if retry_alone:
            self._one_at_a_time_through = max(row.id for row in retry_alone)
            raise BatchFailed(f"the broker refused {len(retry_alone)} row(s); retrying one by one")
        if isinstance(stopped_by, Exception):
            raise stopped_by
        if stopped_by is not None:  # a send cancelled under us: not ours to re-raise
            raise BatchFailed(f"a send was cancelled ({stopped_by!r})")
        if self._one_at_a_time_through is not None and rows[-1].id >= self._one_at_a_time_through:
            self._one_at_a_time_through = None
        return len(published) + len(to_park)

    async def _read_batch(self) -> tuple[list[OutboxRow], int]:
        limit = 1 if self._one_at_a_time_through is not None else self._batch_size
        async with self._db.autocommit() as session:
            found = await (await session.connection()).execute(_OLDEST.limit(limit))
            rows = [OutboxRow._make(row) for row in found.all()]
            backlog = len(rows)
            if backlog == limit:  # count only when there may be more than one batch
                backlog = await session.scalar(select(func.count()).select_from(OUTBOX)) or 0
        return rows, backlog

    async def _send(self, producer: AIOKafkaProducer, row: OutboxRow) -> Awaitable[Any]:
        headers = dict(row.headers)
        headers["traceparent"] = telemetry.child_traceparent(
            f"{row.topic} publish",
            parent=headers.get("traceparent"),
            attributes={
                "messaging.destination.name": row.topic,
                "messaging.message.id": row.event_id,
                **({"order.id": row.key} if row.topic in telemetry.ORDER_KEYED else {}),
            },
        ) or headers.get("traceparent", "")
        ack: Awaitable[Any] = await producer.send(
            row.topic,
            value=row.body,
            key=row.key.encode(),
            headers=[(k, str(v).encode()) for k, v in headers.items() if v],
        )
        return ack

    async def _settle(
        self, published: list[OutboxRow], to_park: list[tuple[OutboxRow, str]]
    ) -> None:
        """Delete what the broker acknowledged and park what it never will, in one transaction.

        Rows acknowledged are deleted even when others of the batch failed: they are on the
        topic, and with the idempotent producer nothing after a failed row of the same
        partition is acknowledged, so deleting them cannot let a row overtake an earlier one.
        """
        if not published and not to_park:
            return
        # The common case, only deletes, is one statement: it needs no transaction of its own.
        async with self._db.transaction() if to_park else self._db.autocommit() as session:
            if published:
                ids = [row.id for row in published]
                await session.exec(delete(OUTBOX).where(one_of(session, OUTBOX.c.id, ids)))
            await parked.park(session, to_park)
            parked_now = await parked.count(session) if to_park else None
        for topic, sent in Counter(row.topic for row in published).items():
            self._metrics.outbox_published.labels(topic=topic).inc(sent)
        if parked_now is not None:
            self._metrics.outbox_parked.set(parked_now)
            for row, reason in to_park:
                log.error(
                    "outbox row %s (%s on %s, event %s) parked: %s",
                    row.id,
                    row.type,
                    row.topic,
                    row.event_id,
                    reason,
                )
        self._metrics.outbox_backlog.dec(len(published) + len(to_park))

    async def _publish_while_leader(self) -> None:
        backoff = 0.1
        while await self._lock.held():
            if self._stopping.is_set():
                await self._flush()
                return
            try:
                await self.publish_batch()
                backoff = 0.1
            except Exception as error:
                self._metrics.relay_errors.inc()
                # A broker outage is expected and says enough in one line; anything else
                # deserves its traceback.
                log.warning(
                    "outbox relay batch failed (%s); retrying in %.1fs",
                    error,
                    backoff,
                    exc_info=not isinstance(error, KafkaError | BatchFailed),
                )
                await self._close_producer()
                await self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if not self._more_waiting:
                await self._wait_for_work()
        log.warning("outbox relay lost its lock (database restarted?); it stops publishing")

    async def _flush(self) -> None:
        if self._producer is None:
            return  # the broker is away: committed rows wait in the outbox for the next start
        try:
            async with asyncio.timeout(10):
                while await self._lock.held() and await self.publish_batch():
                    pass
        except Exception:
            log.warning(
                "outbox relay could not flush before shutdown; rows stay for next start",
                exc_info=True,
            )

    async def _acquire_lock(self) -> bool:
        """Wait until this relay holds the lock (True) or is stopped (False)."""
        while not self._stopping.is_set():
            if await self._lock.try_acquire():
                return True
            await self._sleep(self._lock_retry_seconds)
        return False

    async def _refresh_parked_gauge(self) -> None:
        with contextlib.suppress(Exception):  # only a gauge: the batch loop reports the database
            async with self._db.transaction() as session:
                self._metrics.outbox_parked.set(await parked.count(session))

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._producer_factory(self._kafka, self._client_id)
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
