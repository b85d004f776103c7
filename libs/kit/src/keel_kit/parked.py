"""Parked outbox rows: messages the broker can never accept, set aside so the rows behind flow on.

The relay parks a row when publishing it failed with an error no retry can cure: the message is
larger than the broker (or the client) accepts, or its topic is invalid. The row moves, with the
error as its reason, from `outbox` to `outbox_parked` in the transaction that deletes its
batch's published rows, so it is neither lost nor published twice. Every other failure is
transient: the rows stay and the relay retries them, in order.

Parking gives up per-key order for that one message (the rows behind it go first); that is the
price of not blocking every row behind it forever. An operator sees parked rows beside the dead
letters (`GET /v1/outbox/parked`, `keel dlq list`), fixes the cause (a larger topic limit, say)
and replays the row: it goes back to the end of the outbox, as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka.errors import (
    InvalidTopicError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from sqlalchemy import delete, func, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.tables import OutboxParked, OutboxRecord, OutboxRow, utcnow

# Errors that belong to the message itself: sending it again, as it is, fails the same way.
# MessageSizeTooLargeError comes from send() itself (over the client's max_request_size) or
# from the broker (over the topic's max.message.bytes); the others from the broker.
PERMANENT_PUBLISH_ERRORS: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    InvalidTopicError,
)
MAX_REASON_LENGTH = 2000


def is_permanent(error: BaseException) -> bool:
    """Whether publishing failed because of the message itself, so a retry cannot succeed."""
    return isinstance(error, PERMANENT_PUBLISH_ERRORS)


def reason_for(error: BaseException) -> str:
    """The reason an operator reads: the error's class and what it said."""
    said, name = str(error), type(error).__name__
    # aiokafka's broker errors already name themselves: "[Error 10] MessageSizeTooLargeError: ..."
    return (said if name in said else f"{name}: {said}")[:MAX_REASON_LENGTH]


async def park(session: AsyncSession, rows: Sequence[tuple[OutboxRow, str]]) -> None:
    """Move outbox rows, each with its reason, to `outbox_parked` (in the caller's transaction)."""
    if not rows:
        return
    parked_at = utcnow()
    await session.exec(
        insert(OutboxParked),
        params=[
            {
                "topic": row.topic,
                "key": row.key,
                "event_id": row.event_id,
                "type": row.type,
                "body": row.body,
                "headers": row.headers,
                "created_at": row.created_at,
                "parked_at": parked_at,
                "reason": reason,
            }
            for row, reason in rows
        ],
    )
    ids = [row.id for row, _ in rows]
    await session.exec(delete(OutboxRecord).where(col(OutboxRecord.id).in_(ids)))


async def count(session: AsyncSession) -> int:
    """How many rows are parked now (what the `keel_outbox_parked` gauge shows)."""
    return await session.scalar(select(func.count()).select_from(OutboxParked)) or 0


async def page(session: AsyncSession, *, after: int | None, limit: int) -> list[OutboxParked]:
    """Parked rows in the order they were parked, after the id `after`."""
    query = select(OutboxParked).order_by(col(OutboxParked.id)).limit(limit)
    if after is not None:
        query = query.where(col(OutboxParked.id) > after)
    return list((await session.exec(query)).all())


async def replay(session: AsyncSession, parked_id: int) -> int | None:
    """Move a parked row back to the end of the outbox, as it was; returns its new outbox id,
    or None if no row is parked under `parked_id` (already replayed, or never parked)."""
    row = await session.get(OutboxParked, parked_id, with_for_update=True)
    if row is None:
        return None
    outbox_id = await session.scalar(
        insert(OutboxRecord)
        .values(
            topic=row.topic,
            key=row.key,
            event_id=row.event_id,
            type=row.type,
            body=row.body,
            headers=row.headers,
            created_at=row.created_at,
        )
        .returning(OutboxRecord.id)
    )
    await session.delete(row)
    assert outbox_id is not None  # RETURNING always answers for an inserted row
    return int(outbox_id)
