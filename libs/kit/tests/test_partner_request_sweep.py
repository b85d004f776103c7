"""Signed partner requests' ids: expired ones are swept, at most once a minute, by a take."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlmodel import SQLModel, select

from keel_contracts.roles import Role
from keel_kit import tables
from keel_kit.db import Database
from keel_kit.identity import Principal
from keel_kit.partners import KEEP_REQUEST_IDS, SWEEP_EVERY, PartnerVerifier, SignedRequest

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]

PARTNER = "warehouse:WH-EAST"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kit.db'}")
    async with db.engine.begin() as connection:
        await connection.run_sync(
            SQLModel.metadata.create_all,
            tables=[tables.PartnerRequest.__table__],  # type: ignore[list-item]
        )
    yield db
    await db.dispose()


def signed(webhook_id: str) -> SignedRequest:
    return SignedRequest(Principal(PARTNER, frozenset({Role.WAREHOUSE_SYSTEM})), webhook_id)


async def kept_ids(db: Database) -> set[str]:
    async with db.transaction() as session:
        rows = await session.exec(select(tables.PartnerRequest.webhook_id))
        return set(rows.all())


async def age(db: Database, webhook_id: str, to: datetime) -> None:
    async with db.transaction() as session:
        row = await session.get(tables.PartnerRequest, (PARTNER, webhook_id))
        assert row is not None
        row.received_at = to


async def test_expired_ids_go_at_the_next_sweep_and_fresh_ones_stay(db: Database) -> None:
    clock = Clock()
    verifier = PartnerVerifier(db, clock=clock)
    assert await verifier.take(signed("old"), b"{}") is None  # the first take sweeps, too
    await age(db, "old", to=clock.now - KEEP_REQUEST_IDS - timedelta(minutes=1))

    # Not yet due: the expired id is still there after another request.
    clock.now += SWEEP_EVERY - timedelta(seconds=1)
    assert await verifier.take(signed("fresh"), b"{}") is None
    assert await kept_ids(db) == {"old", "fresh"}

    # Due once SWEEP_EVERY has passed since the first sweep: the expired one goes.
    clock.now += timedelta(seconds=1)
    assert await verifier.take(signed("newer"), b"{}") is None
    assert await kept_ids(db) == {"fresh", "newer"}
