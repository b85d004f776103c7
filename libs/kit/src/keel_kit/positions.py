"""Where each consumer stands in each partition, kept in the service's own database.

The next offset to read is written in the transaction that applies a batch, so the database
knows exactly how far its effects reach (a batch with nothing to apply or dead-letter writes
nothing, its position included: reading it again changes nothing). On assignment the consumer
resumes there, whatever the broker answers: a broker that restarts mid-request may report no
committed offset for a partition the group has read for weeks, and the client would then jump
to the start of the log (or to its end). Kafka's committed offset is only adopted for partitions
this database has never known (its first start, or a database older than this table); a
partition neither knows starts at the log's start, by a decision rather than the client's reset
policy.

A position no longer on the log is never waited on: below the log's start, retention deleted
records nobody read; past its end, the broker lost records it had acknowledged. Either way the
consumer goes on from the nearer end of the log, with an error and a count, at assignment and
when a fetch finds it out (the client's reset policy being none, it would otherwise repeat the
failing fetch forever).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from aiokafka import TopicPartition
from aiokafka.errors import OffsetOutOfRangeError
from sqlalchemy import case
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.db import Database, upsert_insert
from keel_kit.faults import is_transient
from keel_kit.tables import ConsumerPosition

log = logging.getLogger(__name__)
T = TypeVar("T")
Following = dict[tuple[str, int], int]  # (topic, partition) -> the next offset to read

ATTEMPTS = 10  # about 30 s of a database away before falling back to the broker's word
BACKOFF_SECONDS = 3.0


class _Positioned(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


async def advance(session: AsyncSession, consumer: str, records: Sequence[_Positioned]) -> None:
    """Record that every record of this batch is dealt with: each partition's next offset."""
    following: Following = {}
    for record in records:
        key = (record.topic, record.partition)
        following[key] = max(following.get(key, 0), record.offset + 1)
    await _upsert(session, consumer, following)


async def _upsert(session: AsyncSession, consumer: str, following: Following) -> None:
    """Move positions forward. A position never moves back here: a stale batch from a replica
    that lost the partition cannot rewind the owner (a restored backup rewinds the whole table,
    as it should, and the consumer then applies again what the backup lost)."""
    if not following:
        return
    table = ConsumerPosition.__table__
    statement = upsert_insert(session, table).values(
        [
            {"consumer": consumer, "topic": topic, "partition": partition, "next_offset": offset}
            for (topic, partition), offset in sorted(following.items())
        ]
    )
    proposed = statement.excluded.next_offset
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["consumer", "topic", "partition"],
            set_={
                "next_offset": case(
                    (proposed > table.c.next_offset, proposed), else_=table.c.next_offset
                )
            },
        )
    )


async def load(db: Database, consumer: str, partitions: Iterable[TopicPartition]) -> dict[Any, int]:
    """The next offset of each given partition this consumer's database has recorded."""
    wanted = set(partitions)
    topics = sorted({tp.topic for tp in wanted})
    if not topics:
        return {}
    async with db.transaction() as session:
        rows = await session.exec(
            select(
                ConsumerPosition.topic, ConsumerPosition.partition, ConsumerPosition.next_offset
            ).where(ConsumerPosition.consumer == consumer, ConsumerPosition.topic.in_(topics))
        )
        found = {TopicPartition(topic, partition): offset for topic, partition, offset in rows}
    return {tp: offset for tp, offset in found.items() if tp in wanted}


class _Seekable(Protocol):
    def seek(self, partition: TopicPartition, offset: int) -> None: ...

    async def committed(self, partition: TopicPartition) -> int | None: ...

    async def beginning_offsets(
        self, partitions: list[TopicPartition]
    ) -> dict[TopicPartition, int]: ...

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]: ...


# Told of each partition moved off a position no longer on its log: how many offsets were
# skipped, and why ("deleted unread" or "past the log's end").
Skipped = Callable[[TopicPartition, int, str], None]


async def place(
    consumer: _Seekable, wanted: dict[TopicPartition, int], skipped: Skipped
) -> dict[TopicPartition, int]:
    """Seek each partition to its wanted offset, or to the nearer end of its log when that
    offset is no longer on it (see the module doc); returns where each one went."""
    if not wanted:
        return {}
    partitions = list(wanted)
    starts = await consumer.beginning_offsets(partitions)
    ends = await consumer.end_offsets(partitions)
    placed: dict[TopicPartition, int] = {}
    for tp, offset in wanted.items():
        placed[tp] = min(max(offset, starts[tp]), ends[tp])
        consumer.seek(tp, placed[tp])
        if placed[tp] == offset:
            continue
        why = "deleted unread" if offset < starts[tp] else "past the log's end"
        log.error(
            "%s[%d]: offset %d is no longer on the log (%s; it holds %d to %d): going on "
            "from %d, %d offsets skipped",
            tp.topic,
            tp.partition,
            offset,
            why,
            starts[tp],
            ends[tp],
            placed[tp],
            abs(placed[tp] - offset),
        )
        skipped(tp, abs(placed[tp] - offset), why)
    return placed


async def resume(
    consumer: _Seekable,
    db: Database,
    group: str,
    assigned: Iterable[TopicPartition],
    skipped: Skipped,
) -> None:
    """Place each newly assigned partition where this service's database says it stands.

    A partition the database does not know yet is adopted at once (at the broker's committed
    offset, or at the log's start if never read), so from the first assignment on the database
    knows every partition its consumer owns, read or not.
    """
    assigned = list(assigned)
    known = await _patiently(lambda: load(db, group, assigned))
    recorded = {tp: offset for tp, offset in (known or {}).items()}
    adopted: dict[TopicPartition, int] = {}
    for tp in assigned:
        if tp not in recorded and (committed := await consumer.committed(tp)) is not None:
            adopted[tp] = committed
    never_read = [tp for tp in assigned if tp not in recorded and tp not in adopted]
    if never_read:
        log.info("%s reads %d never-read partitions from their start", group, len(never_read))
        adopted.update(await consumer.beginning_offsets(never_read))
    placed = await place(consumer, recorded | adopted, skipped)
    adopted = {tp: placed[tp] for tp in adopted}
    if known is None:
        log.error(
            "could not read %s's consumer positions; resumed from the broker's committed offsets "
            "(the inbox dedupes what that replays)",
            group,
        )
        return
    following = {(tp.topic, tp.partition): offset for tp, offset in adopted.items()}
    await _patiently(lambda: _save(db, group, following))


def guard_fetches(consumer: Any, skipped: Skipped) -> None:
    """Make a fetch that finds a position no longer on the log move on (`place`) instead of
    failing: the client raises it from `getmany`, which FastStream's loop would log and retry,
    on the same offset, every few seconds, forever."""
    fetch = consumer.getmany

    async def getmany(*partitions: TopicPartition, **options: Any) -> dict[Any, Any]:
        try:
            fetched: dict[Any, Any] = await fetch(*partitions, **options)
        except OffsetOutOfRangeError as error:
            await place(consumer, dict(error.args[0]), skipped)
            return {}
        return fetched

    consumer.getmany = getmany


async def _save(db: Database, group: str, following: Following) -> None:
    async with db.transaction() as session:
        await _upsert(session, group, following)


async def _patiently(attempt_once: Callable[[], Awaitable[T]]) -> T | None:
    """Run a database step, waiting out a database briefly away; None if it stays away."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await attempt_once()
        except Exception as error:
            if not is_transient(error) or attempt == ATTEMPTS:
                log.warning("consumer positions unavailable", exc_info=True)
                return None
            await asyncio.sleep(BACKOFF_SECONDS)
    return None
