"""Service tests: whole batches of reservation commands applied in one transaction, as the
kit's consumer applies them, including its fallback of redoing a batch message by message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio
from sqlmodel import col, select

from keel_contracts import Envelope
from keel_contracts.commands import ReleaseStock, ReserveStock
from keel_contracts.values import Line
from keel_inventory import reservations, service
from keel_inventory.handlers import handlers
from keel_inventory.main import create_app
from keel_inventory.schemas import ItemCreate, LocationCreate, ReceiptCreate
from keel_inventory.settings import Settings
from keel_kit.consumer import BatchProcessor, Record
from keel_kit.runtime import ServiceRuntime
from keel_kit.tables import OutboxRecord

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def start(settings: Settings) -> ServiceRuntime:
    """A migrated inventory (not serving) that knows the MUG and one warehouse."""
    runtime: ServiceRuntime = create_app(settings).state.runtime
    await runtime.migrate()
    async with runtime.db.transaction() as session:
        await service.register_item(
            session=session,
            outbox=runtime.outbox,
            cmd=ItemCreate(sku="MUG", name="Mug", unit_cost=Decimal(1), currency="USD"),
        )
        await service.register_location(
            session=session,
            outbox=runtime.outbox,
            cmd=LocationCreate(
                location_id="WH-A", name="A", kind="warehouse", country="US", postal_code="1"
            ),
        )
    return runtime


@pytest_asyncio.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    runtime = await start(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'inv.db'}"))
    yield runtime
    await runtime.db.dispose()


async def receive(runtime: ServiceRuntime, quantity: int) -> None:
    async with runtime.db.transaction() as session:
        await service.receive_stock(
            session=session,
            outbox=runtime.outbox,
            cmd=ReceiptCreate(
                sku="MUG",
                location_id="WH-A",
                quantity=quantity,
                unit_cost=Decimal(1),
                reference="r",
            ),
        )


async def apply_batch(runtime: ServiceRuntime, *commands: ReserveStock | ReleaseStock) -> int:
    processor = BatchProcessor(
        consumer="inventory-service",
        handlers=handlers,
        db=runtime.db,
        outbox=runtime.outbox,
        metrics=runtime.metrics,
        max_attempts=3,
        backoff_seconds=0.01,
    )
    records = [
        Record(
            topic="inventory.commands.v1",
            partition=0,
            offset=offset,
            key=command.order_id.encode(),
            value=Envelope.wrap(
                command, source="order", correlation_id=command.order_id
            ).to_bytes(),
        )
        for offset, command in enumerate(commands)
    ]
    return await processor.process(records)


def reserve(order_id: str, quantity: int, *, backorder: bool = False) -> ReserveStock:
    lines = (Line(sku="MUG", quantity=quantity),)
    return ReserveStock(order_id=order_id, channel="web", lines=lines, backorder=backorder)


async def envelopes(runtime: ServiceRuntime) -> list[Envelope]:
    async with runtime.db.transaction() as session:
        rows = await session.exec(
            select(OutboxRecord)
            .where(OutboxRecord.topic == "inventory.reservation.v1")
            .order_by(col(OutboxRecord.id))
        )
        return [Envelope.from_bytes(row.body) for row in rows.all()]


async def answers(runtime: ServiceRuntime) -> list[tuple[str, str]]:
    return [(e.type, e.payload["order_id"]) for e in await envelopes(runtime)]


async def mug(runtime: ServiceRuntime) -> tuple[int, int]:
    async with runtime.db.transaction() as session:
        (location,) = (await service.availability(session=session, sku="MUG")).locations
        invariants = await service.invariants(session=session)
    assert invariants.ledger_matches_balances
    assert invariants.oversold == []
    return location.sellable, location.reserved


async def test_one_batch_hands_out_the_last_units_once(runtime: ServiceRuntime) -> None:
    await receive(runtime, 3)

    applied = await apply_batch(runtime, *(reserve(f"O-{n}", 1) for n in range(5)))

    assert applied == 5
    assert await answers(runtime) == [
        ("stock.reserved", "O-0"),
        ("stock.reserved", "O-1"),
        ("stock.reserved", "O-2"),
        ("stock.reservation_failed", "O-3"),
        ("stock.reservation_failed", "O-4"),
    ]
    assert await mug(runtime) == (3, 3)


async def test_one_batch_reserves_releases_and_serves_the_queue_in_order(
    runtime: ServiceRuntime,
) -> None:
    await receive(runtime, 2)

    await apply_batch(
        runtime,
        reserve("A", 2),
        reserve("B", 1, backorder=True),
        ReleaseStock(order_id="A", reason="cancelled"),
        reserve("C", 1),
        reserve("A", 1),
    )

    assert await answers(runtime) == [
        ("stock.reserved", "A"),
        ("stock.reservation_failed", "B"),
        ("stock.released", "A"),
        ("stock.reserved", "B"),
        ("stock.reserved", "C"),
        ("stock.reservation_failed", "A"),
    ]
    assert await mug(runtime) == (2, 2)


async def test_a_known_order_in_a_batch_sends_the_batch_message_by_message(
    runtime: ServiceRuntime,
) -> None:
    """A batch holds stock for new orders without asking whether they are new; an order held
    before breaks the unique order id at commit, and the redone batch answers it correctly."""
    await receive(runtime, 10)
    await apply_batch(runtime, reserve("OLD", 2))

    applied = await apply_batch(
        runtime, reserve("NEW-1", 1), reserve("OLD", 2), reserve("NEW-2", 3)
    )

    assert applied == 3
    assert await answers(runtime) == [
        ("stock.reserved", "OLD"),
        ("stock.reserved", "NEW-1"),
        ("stock.reserved", "OLD"),
        ("stock.reserved", "NEW-2"),
    ]
    first, _, again, _ = await envelopes(runtime)
    assert again.payload == first.payload
    assert await mug(runtime) == (10, 6)


async def test_a_command_that_can_never_fit_is_dead_lettered_alone(
    runtime: ServiceRuntime,
) -> None:
    await receive(runtime, 5)

    applied = await apply_batch(
        runtime, reserve("O-1", 1), reserve("O" * 101, 1), reserve("O-2", 1)
    )

    assert applied == 2
    assert await answers(runtime) == [("stock.reserved", "O-1"), ("stock.reserved", "O-2")]
    async with runtime.db.transaction() as session:
        letters = (
            await session.exec(
                select(OutboxRecord).where(OutboxRecord.topic == "inventory-service.dlq")
            )
        ).all()
    assert [letter.key for letter in letters] == ["O" * 101]
    assert "too long" in letters[0].headers["keel-error"]
    assert await mug(runtime) == (5, 2)


async def test_the_expiry_job_runs_with_the_configured_time_to_live(tmp_path: Path) -> None:
    default_ttl = reservations.policy.ttl
    runtime = await start(
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'inv.db'}", reservation_ttl_seconds=0.01
        )
    )
    try:
        await receive(runtime, 1)
        await apply_batch(runtime, reserve("O-1", 1))
        (job,) = runtime._periodic
        await asyncio.sleep(0.05)

        async with runtime.db.transaction() as session:
            await job.run(session, runtime.outbox)

        assert job.name == "expire-reservations"
        assert await answers(runtime) == [("stock.reserved", "O-1"), ("stock.released", "O-1")]
        assert await mug(runtime) == (1, 0)
    finally:
        reservations.policy.ttl = default_ttl  # the TTL is process-wide (see reservations)
        await runtime.db.dispose()
