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


async def age(db: Database, webhook_id: str, by: timedelta) -> None:
    async with db.transaction() as session:
        row = await session.get(tables.PartnerRequest, (PARTNER, webhook_id))
        assert row is not None
        row.received_at = datetime.now(UTC) - by


async def test_expired_ids_go_at_the_next_sweep_and_fresh_ones_stay(db: Database) -> None:
    verifier = PartnerVerifier(db)
    assert await verifier.take(signed("old"), b"{}") is None  # the first take sweeps, too
    await age(db, "old", KEEP_REQUEST_IDS + timedelta(minutes=1))

    # Not yet due: the expired id is still there after another request.
    assert await verifier.take(signed("fresh"), b"{}") is None
    assert await kept_ids(db) == {"old", "fresh"}

    # Due once SWEEP_EVERY has passed (set back as time would): the expired one goes.
    verifier._next_sweep -= SWEEP_EVERY
    assert await verifier.take(signed("newer"), b"{}") is None
    assert await kept_ids(db) == {"fresh", "newer"}
