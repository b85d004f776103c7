"""Rows staged for the unit of work's bulk insert, and what is still to be written."""

import pytest
from sqlmodel import select

from keel_kit import staged
from keel_kit.db import Database
from keel_kit.tables import InboxRecord, KitTable, utcnow

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]

INBOX = KitTable.metadata.tables[InboxRecord.__tablename__]


async def test_a_row_staged_of_something_is_pending_until_written(db: Database) -> None:
    async with db.transaction() as session:
        row = {"consumer": "c", "event_id": "E-1", "processed_at": utcnow()}
        staged.stage(session, INBOX, row, of=("inbox", "E-1"))
        assert staged.pending(session, ("inbox", "E-1"))
        assert not staged.pending(session, ("inbox", "E-2"))

        await staged.write(session)

        assert not staged.pending(session, ("inbox", "E-1"))
        assert (await session.exec(select(InboxRecord.event_id))).all() == ["E-1"]


async def test_what_is_discarded_is_no_longer_pending(db: Database) -> None:
    async with db.transaction() as session:
        row = {"consumer": "c", "event_id": "E-1", "processed_at": utcnow()}
        staged.stage(session, INBOX, row, of=("inbox", "E-1"))
        staged.discard(session)

        assert not staged.pending(session, ("inbox", "E-1"))
        await staged.write(session)
        assert (await session.exec(select(InboxRecord.event_id))).all() == []
