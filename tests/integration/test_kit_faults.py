"""The kit under database faults, on the real PostgreSQL: deadlocks between replicas, a restart
mid-batch, keys of any length in dead letters, periodic jobs claimed once per period."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from alembic import command
from sqlalchemy import text
from sqlmodel import Field, SQLModel, select

from keel_contracts import Envelope
from keel_contracts.events import StockReceived
from keel_kit.consumer import BatchProcessor
from keel_kit.context import UnitOfWork
from keel_kit.db import Database
from keel_kit.decoding import Record
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.metrics import KitMetrics
from keel_kit.migrations import KIT_MIGRATIONS, alembic_config
from keel_kit.outbox import Outbox
from keel_kit.periodic import PeriodicJob, run_if_due
from keel_kit.tables import InboxRecord, OutboxRecord
from kit_fixtures import Applied, stock_received
from tests.conftest import Infra

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


class FaultBalance(SQLModel, table=True):
    """Rows two replicas lock in opposite orders."""

    __tablename__ = "kit_fault_balance"

    sku: str = Field(primary_key=True)
    quantity: int


class JobRun(SQLModel, table=True):
    __tablename__ = "kit_fault_job_run"

    id: int | None = Field(default=None, primary_key=True)
    period: int


@pytest_asyncio.fixture
async def database_url(infra: Infra) -> AsyncIterator[str]:
    url = infra.new_database("kit")
    await asyncio.to_thread(command.upgrade, alembic_config(KIT_MIGRATIONS, url), "head")
    db = Database(url)
    async with db.engine.begin() as connection:
        tables = [Applied.__table__, FaultBalance.__table__, JobRun.__table__]  # type: ignore[attr-defined]
        await connection.run_sync(SQLModel.metadata.create_all, tables=tables)
        await connection.execute(text("INSERT INTO kit_fault_balance VALUES ('A', 0), ('B', 0)"))
    await db.dispose()
    yield url


def replica(url: str, handlers: Handlers, metrics: KitMetrics) -> tuple[Database, BatchProcessor]:
    db = Database(url)
    processor = BatchProcessor(
        consumer="finance-service",
        handlers=handlers,
        db=db,
        outbox=Outbox("finance"),
        metrics=metrics,
        max_attempts=5,
        backoff_seconds=0.05,
        service=None,
    )
    return db, processor


def as_record(event: StockReceived, offset: int, key: bytes = b"SKU-1") -> Record:
    envelope = Envelope.wrap(event, source="inventory", correlation_id="SKU-1")
    return Record("inventory.stock.v1", 0, offset, key, envelope.to_bytes())


async def count(db: Database, model: type[Any]) -> int:
    async with db.transaction() as session:
        return len((await session.exec(select(model))).all())


def retries(metrics: KitMetrics) -> float:
    return metrics.registry.get_sample_value("keel_consumer_batch_retries_total") or 0.0


async def test_two_replicas_that_deadlock_both_apply_their_batches(database_url: str) -> None:
    handlers = Handlers()

    @handlers.on(StockReceived)
    async def lock_in_the_order_given(ctx: MessageContext[None], event: StockReceived) -> None:
        # `reference` names the order to lock the two rows in: opposite orders deadlock.
        for position, sku in enumerate(event.reference.split(",")):
            if position:
                await asyncio.sleep(0.3)  # both hold their first row before asking the second
            connection = await ctx.session.connection()
            await connection.execute(
                text("UPDATE kit_fault_balance SET quantity = quantity + 1 WHERE sku = :sku"),
                {"sku": sku},
            )
        ctx.session.add(Applied(movement_id=event.movement_id, quantity=event.quantity))

    metrics = [KitMetrics("finance"), KitMetrics("finance")]
    (db1, one), (db2, two) = (replica(database_url, handlers, m) for m in metrics)
    first = stock_received().model_copy(update={"reference": "A,B"})
    second = stock_received().model_copy(update={"reference": "B,A"})

    applied = await asyncio.gather(
        one.process([as_record(first, 0)]), two.process([as_record(second, 1)])
    )

    assert list(applied) == [1, 1]
    assert sum(retries(m) for m in metrics) >= 1  # PostgreSQL broke the deadlock; it was retried
    assert await count(db1, Applied) == 2
    assert await count(db1, OutboxRecord) == 0  # nothing was dead-lettered
    async with db1.transaction() as session:
        quantities = (await session.exec(select(FaultBalance.quantity))).all()
    assert sorted(quantities) == [2, 2]
    await db1.dispose()
    await db2.dispose()


async def test_a_database_restart_mid_batch_loses_and_duplicates_nothing(
    database_url: str,
) -> None:
    name = database_url.rsplit("/", 1)[1]
    admin_dsn = database_url.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]
    restarted = asyncio.Event()
    handlers = Handlers()

    @handlers.on(StockReceived)
    async def apply(ctx: MessageContext[None], event: StockReceived) -> None:
        ctx.session.add(Applied(movement_id=event.movement_id, quantity=event.quantity))
        await ctx.session.flush()
        if not restarted.is_set():
            restarted.set()
            # What a restart does to every client: the server ends each session (57P01).
            admin = await asyncpg.connect(f"{admin_dsn}/postgres")
            try:
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    name,
                )
            finally:
                await admin.close()

    metrics = KitMetrics("finance")
    db, processor = replica(database_url, handlers, metrics)
    events = [stock_received(quantity) for quantity in range(1, 6)]

    applied = await processor.process([as_record(e, i) for i, e in enumerate(events)])

    assert restarted.is_set()
    assert applied == 5
    assert retries(metrics) >= 1
    assert await count(db, Applied) == 5
    assert await count(db, InboxRecord) == 5
    assert await count(db, OutboxRecord) == 0
    # Delivered again (the offsets were never committed, say): nothing is applied twice.
    assert await processor.process([as_record(e, 10 + i) for i, e in enumerate(events)]) == 0
    assert await count(db, Applied) == 5
    await db.dispose()


async def test_a_poison_message_with_a_long_key_is_dead_lettered(database_url: str) -> None:
    db, processor = replica(database_url, Handlers(), KitMetrics("finance"))
    poison = Record("inventory.stock.v1", 0, 3, b"k" * 1000, b"not an envelope")

    assert await processor.process([poison]) == 0

    async with db.transaction() as session:
        (letter,) = (await session.exec(select(OutboxRecord))).all()
    assert letter.topic == "finance-service.dlq"
    assert letter.key == "k" * 1000
    await db.dispose()


async def test_a_periodic_job_runs_once_per_period_across_replicas(database_url: str) -> None:
    attempts: list[int] = []

    async def record_run(work: UnitOfWork[None]) -> None:
        attempts.append(1)
        await asyncio.sleep(0.2)  # long enough for the other replica to find the claim held
        work.session.add(JobRun(period=len(attempts)))

    job = PeriodicJob(name="kit-fault-job", every=3600, run=record_run)
    replicas = [Database(database_url), Database(database_url)]
    outbox = Outbox("finance")
    start = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    ran = await asyncio.gather(
        *(run_if_due(db, outbox, job, now=start, service=None) for db in replicas)
    )
    again = await run_if_due(
        replicas[1], outbox, job, now=start + timedelta(minutes=59), service=None
    )
    next_hour = await run_if_due(
        replicas[1], outbox, job, now=start + timedelta(hours=1), service=None
    )

    assert sorted(ran) == [False, True]  # never run before: due at start, on one replica
    assert again is False  # the same period, later
    assert next_hour is True
    assert len(attempts) == 2
    assert await count(replicas[0], JobRun) == 2
    for db in replicas:
        await db.dispose()


async def test_a_failed_run_gives_its_period_back(database_url: str) -> None:
    db = Database(database_url)
    failures = [RuntimeError("supplier feed away")]

    async def flaky(work: UnitOfWork[None]) -> None:
        if failures:
            raise failures.pop()
        work.session.add(JobRun(period=1))

    job = PeriodicJob(name="kit-fault-flaky", every=60, run=flaky)
    now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    with pytest.raises(RuntimeError):
        await run_if_due(db, Outbox("finance"), job, now=now, service=None)
    assert await run_if_due(
        db, Outbox("finance"), job, now=now + timedelta(seconds=30), service=None
    )
    assert await count(db, JobRun) == 1
    await db.dispose()
