"""Batch consumption with exactly-once effects.

A batch of records is applied in one database transaction: its events are claimed in the inbox
(`keel_kit.inbox`), which filters out those this consumer has already applied, the handlers run,
and the dead letters of the failed ones are written in the same transaction (their claims given
back); only after it commits are the offsets committed. The same transaction records each
partition's next offset (`keel_kit.positions`), where a restarted consumer resumes. A crash
before the commit replays the batch; the inbox makes any replay harmless. Savepoints are used
only to isolate a failing message, never on the fast path.

Failures are sorted in two (`keel_kit.faults`): a transient failure (database or broker briefly
away, a deadlock, a serialization failure) retries the whole batch with backoff a bounded number
of times and then rewinds the partitions so the batch comes back later; any other failure of one
message sends that message, with its error, to the consumer group's dead-letter topic (through
the outbox, so it cannot be lost) and the partition moves on.

Records are read into messages by `keel_kit.decoding`, which also says which are another
consumer's (skipped) and which can never be applied (dead-lettered).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from opentelemetry.trace import SpanKind
from sqlalchemy import exc as sa_exc
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import dead_letter_topic
from keel_kit import inbox, observed, positions, staged, telemetry
from keel_kit.db import Database
from keel_kit.decoding import Decoded, Decoder, Failure, Record
from keel_kit.faults import is_transient
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.metrics import KitMetrics
from keel_kit.outbox import Outbox

log = logging.getLogger(__name__)

# Dead letters get a stable event id from where the message was, so redoing a batch that
# dead-lettered it writes the same dead letter again (which its readers dedupe).
_DEAD_LETTER_IDS = uuid.UUID("6b65656c-0000-4000-8000-00000000dead")


# Work done in a batch's own transaction, told the error of its (one) failed message, if any.
Alongside = Callable[[AsyncSession, str | None], Awaitable[None]]


class _IsolateMessages(Exception):
    """A message failed on the fast path: redo the batch with a savepoint per message."""


class BatchProcessor:
    """Applies batches of records for one consumer group; knows nothing of the Kafka client."""

    def __init__(
        self,
        *,
        consumer: str,
        handlers: Handlers,
        db: Database,
        outbox: Outbox,
        metrics: KitMetrics,
        max_attempts: int,
        backoff_seconds: float,
        service: object,
    ) -> None:
        """`service` is the service's context, handed to every handler as `ctx.service`."""
        self.consumer = consumer
        self._service = service
        self._handlers = handlers
        self.db = db
        self._outbox = outbox
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._dlq_topic = dead_letter_topic(consumer)
        self._decoder = Decoder(handlers)

    async def process(self, records: Sequence[Record]) -> int:
        """Apply a batch and return how many events took effect (not counting duplicates and
        dead letters), or raise after the bounded retries so the caller rewinds the batch.

        The batch first runs in one transaction without savepoints (the fast path: one flush,
        bulk inserts). If any message fails for good, the batch is redone with one savepoint
        per message, so only the failing messages are dead-lettered.
        """
        decoded, undecodable = self._decoder.decode(records)
        # The batch's own trace, linked to each message's: its shared statements are there.
        traced = [item.traceparent for item in decoded]
        with telemetry.trace_of_its_own(f"{self.consumer} batch", linked=traced):
            return await self._process(records, decoded, undecodable)

    async def _process(
        self, records: Sequence[Record], decoded: list[Decoded], undecodable: list[Failure]
    ) -> int:
        isolate = False
        attempt = 0
        while True:
            try:
                applied, _failures = await self._apply(
                    records, decoded, undecodable, isolate=isolate
                )
                return applied
            except _IsolateMessages:
                isolate = True
            except Exception as error:
                if is_transient(error):
                    attempt = await self._back_off(attempt, len(records))
                elif isinstance(error, sa_exc.IntegrityError):
                    if not isolate:
                        isolate = True  # a handler's conflict or a replica's: isolation tells
                        continue
                    # Handlers' conflicts were caught in their savepoints, so this is one of
                    # the batch's own writes meeting another transaction's: a retry sees
                    # what that one committed.
                    attempt = await self._back_off(attempt, len(records))
                elif isinstance(error, sa_exc.SQLAlchemyError) and not isolate:
                    # Raised when the batch's writes were flushed together (a value too long
                    # for its column, say): only isolation can tell which message caused it.
                    isolate = True
                else:
                    raise

    async def _back_off(self, attempt: int, size: int) -> int:
        """Sleep before the next attempt, or re-raise the current error after the last one."""
        attempt += 1
        if attempt >= self._max_attempts:
            raise
        self._metrics.batch_retries.inc()
        delay = self._backoff * 2 ** (attempt - 1)
        log.warning(
            "batch of %d failed (try %d); again in %.2fs", size, attempt, delay, exc_info=True
        )
        await asyncio.sleep(delay)
        return attempt

    async def _apply(
        self,
        records: Sequence[Record],
        decoded: list[Decoded],
        undecodable: list[Failure],
        *,
        isolate: bool,
        alongside: Alongside | None = None,
    ) -> tuple[int, list[Failure]]:
        """Apply in one transaction: how many took effect, and what failed (dead-lettered).
        `records` are those read from the log, whose partitions' positions move on."""
        failures = list(undecodable)
        applied: list[Decoded] = []
        async with self.db.transaction() as session:
            fresh = await self._claim(session, decoded)
            if not isolate:
                await self._prepare(session, fresh)
            unapplied: list[str] = []
            for item in fresh:
                error = await self._apply_one(session, item, isolate=isolate)
                if error is None:
                    applied.append(item)
                else:
                    failures.append(Failure(item.record, error))
                    unapplied.append(str(item.envelope.event_id))
            await inbox.release(session, self.consumer, unapplied)
            for failure in failures:
                self._dead_letter(session, failure)
            if applied or failures:
                # Only a transaction that writes anyway moves the positions: a read-only one
                # commits without waiting for the disk, and what it read (types for other
                # readers, duplicates) is harmless to read again after a restart.
                await positions.advance(session, self.consumer, records)
            if alongside is not None:
                await alongside(session, failures[0].error if failures else None)
        for topic, count in Counter(item.record.topic for item in applied).items():
            self._metrics.consumed.labels(topic=topic).inc(count)
        for failure in failures:
            self._metrics.dead_letters.labels(topic=failure.record.topic).inc()
            where = f"{failure.record.topic}[{failure.record.partition}]@{failure.record.offset}"
            log.error("dead-lettered %s: %s", where, failure.error)
        return len(applied), failures

    async def replay(self, record: Record, alongside: Alongside) -> str | None:
        """Apply a dead letter's record once more, alone, as its consumer would; None when it
        took effect (or had already), else its error (it is then dead-lettered again).

        `alongside(session, error)` runs in the same transaction (the replay's audit entry).
        No position moves: the record was read long ago.
        """
        decoded, undecodable = self._decoder.decode([record])
        attempt = 0
        while True:
            try:
                _applied, failures = await self._apply(
                    (), decoded, undecodable, isolate=True, alongside=alongside
                )
                return failures[0].error if failures else None
            except Exception as error:
                if not is_transient(error):
                    raise
                attempt = await self._back_off(attempt, 1)

    async def _apply_one(
        self, session: AsyncSession, item: Decoded, *, isolate: bool
    ) -> str | None:
        """Run one handler; return the error if the message can never succeed.

        Without `isolate` a failure aborts the whole batch (to be redone isolated); with it, the
        handler runs in a savepoint that is rolled back alone.
        """
        record = item.record
        context = MessageContext(
            session=session, outbox=self._outbox, service=self._service, envelope=item.envelope
        )
        with telemetry.span(
            f"{record.topic} process",
            kind=SpanKind.CONSUMER,
            traceparent=item.traceparent,
            attributes={
                "messaging.message.id": str(item.envelope.event_id),
                "messaging.consumer.group.name": self.consumer,
            },
            about=item.payload,
        ):
            try:
                if not isolate:
                    await item.handler(context, item.payload)
                    return None
                async with session.begin_nested():
                    await self._handlers.prepare(session, [item.payload])
                    await item.handler(context, item.payload)
                    await staged.write(session)  # inside the savepoint, to go if it goes
                observed.keep(session)
            except Exception as error:
                if is_transient(error):
                    raise
                if not isolate:
                    raise _IsolateMessages from error
                staged.discard(session)
                observed.discard(session)
                telemetry.failed(error)  # its span shows as failed: it goes to dead letters
                return f"{type(error).__name__}: {error}"
        return None

    async def _claim(self, session: AsyncSession, decoded: list[Decoded]) -> list[Decoded]:
        """The messages this consumer has not applied yet, each once, claimed in the inbox."""
        event_ids = [str(d.envelope.event_id) for d in decoded]
        new = await inbox.claim(session, self.consumer, event_ids)
        fresh: list[Decoded] = []
        for item, event_id in zip(decoded, event_ids, strict=True):
            if event_id not in new:  # applied before, or a second copy in this batch
                self._metrics.duplicates.labels(topic=item.record.topic).inc()
                continue
            new.discard(event_id)
            fresh.append(item)
        return fresh

    async def _prepare(self, session: AsyncSession, fresh: list[Decoded]) -> None:
        """The service's batch preparation, on the fast path; a failure isolates the batch."""
        try:
            await self._handlers.prepare(session, [item.payload for item in fresh])
        except Exception as error:
            if is_transient(error):
                raise
            raise _IsolateMessages from error

    def _dead_letter(self, session: AsyncSession, failure: Failure) -> None:
        record = failure.record
        key = record.key.decode(errors="replace") if record.key else ""
        self._outbox.add_raw(
            session,
            topic=self._dlq_topic,
            key=key,
            event_id=str(
                uuid.uuid5(
                    _DEAD_LETTER_IDS,
                    f"{self.consumer}:{record.topic}:{record.partition}:{record.offset}",
                )
            ),
            type="dead_letter",
            body=record.value,
            headers={
                **{k: v.decode(errors="replace") for k, v in record.headers},
                "keel-original-topic": record.topic,
                "keel-original-partition": str(record.partition),
                "keel-original-offset": str(record.offset),
                "keel-consumer": self.consumer,
                "keel-error": failure.error[:2000],
                "keel-failed-at": datetime.now(UTC).isoformat(),
            },
        )
