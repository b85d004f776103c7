"""The inbox: the events a consumer has applied, written in the transaction of their effects.

A batch claims its events before it applies them: each event's row is inserted, and an event
whose row is already there is a duplicate (a replay, or a relay's resend after a crash). One
statement looks and writes, where a lookup and then an insert took two, and on PostgreSQL its
text is the same for every batch size, so it is prepared once.

A claim that meets a concurrent transaction's (another replica's, in a rebalance) waits for it:
if that one commits, the event is a duplicate here; if it rolls back, the claim is ours. The
claims of messages that fail are given back (`release`), so a dead letter's replay is not taken
for a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import DateTime, String, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.tables import InboxRecord, KitTable, utcnow

INBOX = KitTable.metadata.tables[InboxRecord.__tablename__]

_CLAIM_ON_POSTGRES = (
    pg_insert(INBOX)
    .from_select(
        ["consumer", "event_id", "processed_at"],
        select(
            bindparam("consumer", type_=String),
            func.unnest(bindparam("event_ids", type_=ARRAY(String))),
            bindparam("at", type_=DateTime(timezone=True)),
        ),
    )
    .on_conflict_do_nothing()
    .returning(INBOX.c.event_id)
)


async def claim(session: AsyncSession, consumer: str, event_ids: Sequence[str]) -> set[str]:
    """Write the inbox rows of these events; return the ids whose row was not there before."""
    if not event_ids:
        return set()
    at = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # In one order, so two replicas claiming the same events (in a rebalance) wait for
        # each other rather than deadlock.
        rows = await session.exec(
            _CLAIM_ON_POSTGRES,
            params={"consumer": consumer, "event_ids": sorted(set(event_ids)), "at": at},
        )
    else:
        rows = await session.exec(
            sqlite_insert(INBOX)
            .values(
                [
                    {"consumer": consumer, "event_id": event_id, "processed_at": at}
                    for event_id in dict.fromkeys(event_ids)
                ]
            )
            .on_conflict_do_nothing()
            .returning(INBOX.c.event_id)
        )
    return set(rows.scalars().all())


async def release(session: AsyncSession, consumer: str, event_ids: Sequence[str]) -> None:
    """Give back the claims of events that were not applied after all."""
    if event_ids:
        await session.exec(
            delete(INBOX).where(INBOX.c.consumer == consumer, INBOX.c.event_id.in_(event_ids))
        )
