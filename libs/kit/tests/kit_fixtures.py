"""Shared pieces of the kit's tests: a SQLite database with the kit's tables and a test table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from sqlmodel import Field, SQLModel, col, select

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import StockReceived
from keel_contracts.values import Money
from keel_kit import replicas, tables
from keel_kit.db import Database
from keel_kit.decoding import Record


class Applied(SQLModel, table=True):
    """What the test handler writes: one row per applied receipt."""

    __tablename__ = "kit_test_applied"

    movement_id: str = Field(primary_key=True)
    quantity: int


async def database(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kit.db'}")
    tables_to_create = [
        tables.OutboxRecord.__table__,
        tables.InboxRecord.__table__,
        tables.ConsumerPosition.__table__,
        Applied.__table__,  # type: ignore[attr-defined]
        replicas.ItemReplica.__table__,  # type: ignore[attr-defined]
    ]
    async with db.engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=tables_to_create)
    return db


def stock_received(quantity: int = 1) -> StockReceived:
    return StockReceived(
        movement_id=str(new_event_id()),
        sku="SKU-1",
        location_id="WH-1",
        quantity=quantity,
        unit_cost=Money(amount="1.00", currency="USD"),
        reference="test",
    )


def receipt(quantity: int = 1) -> Envelope:
    return Envelope.wrap(stock_received(quantity), source="inventory", correlation_id="SKU-1")


def record(value: bytes, offset: int = 0) -> Record:
    return Record(topic="inventory.stock.v1", partition=0, offset=offset, key=b"SKU-1", value=value)


async def applied_quantities(db: Database) -> list[int]:
    async with db.transaction() as session:
        rows = await session.exec(select(Applied.quantity).order_by(col(Applied.quantity)))
        return list(rows.all())


async def outbox_rows(db: Database) -> list[tables.OutboxRecord]:
    async with db.transaction() as session:
        return list((await session.exec(select(tables.OutboxRecord))).all())


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite database with the kit's tables, disposed after the test."""
    db = await database(tmp_path)
    yield db
    await db.dispose()
