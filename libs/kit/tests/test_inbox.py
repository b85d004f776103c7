"""The inbox's claims on SQLite (PostgreSQL's own statement: tests/integration)."""

import pytest
from sqlalchemy import func
from sqlmodel import select

from keel_kit import inbox
from keel_kit.db import Database
from keel_kit.tables import InboxRecord

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]


async def test_a_claim_returns_only_events_never_claimed_and_each_once(db: Database) -> None:
    async with db.transaction() as session:
        assert await inbox.claim(session, "c", ["E-1", "E-2", "E-1"]) == {"E-1", "E-2"}
    async with db.transaction() as session:
        assert await inbox.claim(session, "c", ["E-2", "E-3"]) == {"E-3"}
        assert await inbox.claim(session, "other", ["E-2"]) == {"E-2"}
        assert await inbox.claim(session, "c", []) == set()
    async with db.transaction() as session:
        assert (await session.exec(select(func.count()).select_from(InboxRecord))).one() == 4


async def test_a_released_claim_can_be_claimed_again(db: Database) -> None:
    async with db.transaction() as session:
        await inbox.claim(session, "c", ["E-1", "E-2"])
        await inbox.release(session, "c", ["E-2"])
    async with db.transaction() as session:
        assert await inbox.claim(session, "c", ["E-1", "E-2"]) == {"E-2"}
