"""The inbox's claims on PostgreSQL (`keel_kit.inbox`): one statement tells new events from
duplicates, and a claim another transaction holds waits for that transaction's outcome; and
`one_of`, the array that stands for an IN list there."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import func
from sqlmodel import select

from keel_kit import inbox
from keel_kit.db import Database, one_of
from keel_kit.tables import InboxRecord
from tests.conftest import Infra
from tests.integration.kit_schema import create_kit_tables

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def db(infra: Infra) -> AsyncIterator[Database]:
    database_url = infra.new_database("inbox_claims")
    await create_kit_tables(database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


async def test_a_claim_returns_only_events_never_claimed_and_each_once(db: Database) -> None:
    async with db.transaction() as session:
        assert await inbox.claim(session, "c", ["E-1", "E-2", "E-1"]) == {"E-1", "E-2"}
    async with db.transaction() as session:
        assert await inbox.claim(session, "c", ["E-2", "E-3"]) == {"E-3"}
        # Another consumer's inbox is its own.
        assert await inbox.claim(session, "other", ["E-2"]) == {"E-2"}
    async with db.transaction() as session:
        rows = await session.exec(select(func.count()).select_from(InboxRecord))
        assert rows.one() == 4


async def test_a_released_claim_can_be_claimed_again(db: Database) -> None:
    async with db.transaction() as session:
        await inbox.claim(session, "c", ["E-1", "E-2"])
        await inbox.release(session, "c", ["E-2"])
    async with db.transaction() as session:
        assert await inbox.claim(session, "c", ["E-1", "E-2"]) == {"E-2"}


class _RolledBack(Exception):
    pass


@pytest.mark.parametrize(("first_commits", "second_gets"), [(True, set()), (False, {"E-1"})])
async def test_a_concurrent_claim_waits_for_the_first_transactions_outcome(
    db: Database, first_commits: bool, second_gets: set[str]
) -> None:
    first_claimed = asyncio.Event()
    finish_first = asyncio.Event()

    async def first() -> None:
        with contextlib.suppress(_RolledBack):
            async with db.transaction() as session:
                assert await inbox.claim(session, "c", ["E-1"]) == {"E-1"}
                first_claimed.set()
                await finish_first.wait()
                if not first_commits:
                    raise _RolledBack

    async def second() -> set[str]:
        await first_claimed.wait()
        async with db.transaction() as session:
            return await inbox.claim(session, "c", ["E-1"])

    first_task = asyncio.create_task(first())
    second_task = asyncio.create_task(second())
    await first_claimed.wait()
    await asyncio.sleep(0.3)
    assert not second_task.done(), "the second claim should wait for the first transaction"
    finish_first.set()
    await first_task
    assert await second_task == second_gets


@pytest.mark.parametrize("wanted", [[], ["E-2"], ["E-1", "E-3", "E-9"]])
async def test_one_of_selects_the_rows_with_any_of_the_values(
    db: Database, wanted: list[str]
) -> None:
    """`one_of` (used beside the inbox, on the intake's lookups) is one array on PostgreSQL."""
    async with db.transaction() as session:
        await inbox.claim(session, "c", ["E-1", "E-2", "E-3"])
    async with db.transaction() as session:
        query = select(InboxRecord.event_id).where(one_of(session, InboxRecord.event_id, wanted))
        assert "ANY" in str(query.compile(session.get_bind()))
        found = (await session.exec(query)).all()
    assert sorted(found) == [e for e in wanted if e in {"E-1", "E-2", "E-3"}]
