"""`Database.autocommit` on SQLite: a transaction as usual, committed at the end."""

import pytest
from sqlmodel import select

from keel_kit.db import Database
from keel_kit.tables import InboxRecord, utcnow

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]


async def test_what_an_autocommit_session_adds_is_committed(db: Database) -> None:
    async with db.autocommit() as session:
        session.add(InboxRecord(consumer="c", event_id="E-1", processed_at=utcnow()))

    async with db.transaction() as session:
        assert (await session.exec(select(InboxRecord.event_id))).all() == ["E-1"]
