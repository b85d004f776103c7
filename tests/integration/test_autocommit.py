"""`Database.autocommit` on PostgreSQL: each statement commits alone, with no transaction open
around it (the relay's reads and deletes, a partner's secrets, rely on it to save round trips)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func
from sqlmodel import select

from keel_kit.db import Database
from keel_kit.tables import InboxRecord, utcnow
from tests.conftest import Infra
from tests.integration.kit_schema import create_kit_tables

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_each_statement_commits_alone_with_no_transaction_open(infra: Infra) -> None:
    database_url = infra.new_database("autocommit")
    await create_kit_tables(database_url)
    db, onlooker = Database(database_url), Database(database_url)
    try:
        async with db.autocommit() as session:
            session.add(InboxRecord(consumer="c", event_id="E-1", processed_at=utcnow()))
            await session.flush()
            driver = (await (await session.connection()).get_raw_connection()).driver_connection
            assert driver is not None
            assert not driver.is_in_transaction()
            # Committed already: another connection sees it before this session ends.
            async with onlooker.transaction() as other:
                seen = await other.scalar(select(func.count()).select_from(InboxRecord))
            assert seen == 1

            await session.exec(delete(InboxRecord))
            assert not driver.is_in_transaction()
        async with onlooker.transaction() as other:
            assert await other.scalar(select(func.count()).select_from(InboxRecord)) == 0
    finally:
        await db.dispose()
        await onlooker.dispose()
