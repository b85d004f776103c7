"""Service tests: whole batches of reservation commands applied in one transaction, as the
kit's consumer applies them, including its fallback of redoing a batch message by message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio

from inventory_harness import Inventory
from keel_contracts.commands import ReleaseStock, ReserveStock
from keel_contracts.roles import Role
from keel_contracts.values import Line
from keel_inventory import invariants, service
from keel_inventory.main import create_app
from keel_inventory.schemas import ItemCreate, LocationCreate, ReceiptCreate
from keel_inventory.settings import Settings
from keel_kit.identity import Principal
from keel_kit.testing import TEST_ADMIN, running

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

ADMIN = Principal(subject=TEST_ADMIN, roles=frozenset({Role.ADMIN}))  # who sets the stage


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[Inventory]:
    """A running inventory that knows the MUG and one warehouse."""
    async with running(create_app(settings), Inventory) as inventory:
        async with inventory.context.unit_of_work() as uow:
            await service.register_item(
                uow=uow,
                cmd=ItemCreate(sku="MUG", name="Mug", unit_cost=Decimal(1), currency="USD"),
                actor=ADMIN,
            )
            await service.register_location(
                uow=uow,
                cmd=LocationCreate(
                    location_id="WH-A", name="A", kind="warehouse", country="US", postal_code="1"
                ),
                actor=ADMIN,
            )
        yield inventory


@pytest_asyncio.fixture
async def inventory(tmp_path: Path) -> AsyncIterator[Inventory]:
    """Here, unlike in the other modules: an inventory that knows only the MUG and WH-A."""
    async with started(
        Settings(state_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'inv.db'}")
    ) as inventory:
        yield inventory


async def receive(inventory: Inventory, quantity: int) -> None:
    async with inventory.context.unit_of_work() as uow:
        await service.receive_stock(
            uow=uow,
            cmd=ReceiptCreate(
                sku="MUG",
                location_id="WH-A",
                quantity=quantity,
                unit_cost=Decimal(1),
                reference="r",
            ),
            actor=ADMIN,
        )


def reserve(order_id: str, quantity: int, *, backorder: bool = False) -> ReserveStock:
    lines = (Line(sku="MUG", quantity=quantity),)
    return ReserveStock(order_id=order_id, channel="web", lines=lines, backorder=backorder)


async def answers(inventory: Inventory) -> list[tuple[str, str]]:
    return [(e.type, e.payload["order_id"]) for e in await inventory.answers()]


async def mug(inventory: Inventory) -> tuple[int, int]:
    async with inventory.context.unit_of_work() as uow:
        (location,) = (await service.availability(uow=uow, sku="MUG")).locations
        report = await invariants.summary(uow=uow)
    assert report.ledger_matches_balances
    assert report.oversold_locations == 0
    return location.sellable, location.reserved


async def test_one_batch_hands_out_the_last_units_once(inventory: Inventory) -> None:
    await receive(inventory, 3)

    applied = await inventory.apply(*(reserve(f"O-{n}", 1) for n in range(5)), max_attempts=3)

    assert applied == 5
    assert await answers(inventory) == [
        ("stock.reserved", "O-0"),
        ("stock.reserved", "O-1"),
        ("stock.reserved", "O-2"),
        ("stock.reservation_failed", "O-3"),
        ("stock.reservation_failed", "O-4"),
    ]
    assert await mug(inventory) == (3, 3)


async def test_one_batch_reserves_releases_and_serves_the_queue_in_order(
    inventory: Inventory,
) -> None:
    await receive(inventory, 2)

    await inventory.apply(
        reserve("A", 2),
        reserve("B", 1, backorder=True),
        ReleaseStock(order_id="A", reason="cancelled"),
        reserve("C", 1),
        reserve("A", 1),
        max_attempts=3,
    )

    assert await answers(inventory) == [
        ("stock.reserved", "A"),
        ("stock.reservation_failed", "B"),
        ("stock.released", "A"),
        ("stock.reserved", "B"),
        ("stock.reserved", "C"),
        ("stock.reservation_failed", "A"),
    ]
    assert await mug(inventory) == (2, 2)


async def test_a_known_order_in_a_batch_sends_the_batch_message_by_message(
    inventory: Inventory,
) -> None:
    """A batch holds stock for new orders without asking whether they are new; an order held
    before breaks the unique order id at commit, and the redone batch answers it correctly."""
    await receive(inventory, 10)
    await inventory.apply(reserve("OLD", 2), max_attempts=3)

    applied = await inventory.apply(
        reserve("NEW-1", 1), reserve("OLD", 2), reserve("NEW-2", 3), max_attempts=3
    )

    assert applied == 3
    assert await answers(inventory) == [
        ("stock.reserved", "OLD"),
        ("stock.reserved", "NEW-1"),
        ("stock.reserved", "OLD"),
        ("stock.reserved", "NEW-2"),
    ]
    first, _, again, _ = await inventory.answers()
    assert again.payload == first.payload
    assert await mug(inventory) == (10, 6)


async def test_a_command_that_can_never_fit_is_dead_lettered_alone(
    inventory: Inventory,
) -> None:
    await receive(inventory, 5)

    applied = await inventory.apply(
        reserve("O-1", 1), reserve("O" * 101, 1), reserve("O-2", 1), max_attempts=3
    )

    assert applied == 2
    assert await answers(inventory) == [("stock.reserved", "O-1"), ("stock.reserved", "O-2")]
    (error,) = await inventory.dead_letters()
    assert await inventory.dead_letters("O" * 101) == [error]
    assert "too long" in error
    assert await mug(inventory) == (5, 2)


async def test_the_expiry_job_runs_with_the_configured_time_to_live(tmp_path: Path) -> None:
    settings = Settings(
        state_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'inv.db'}",
        reservation_ttl_seconds=0.01,
    )
    async with started(settings) as inventory:
        await receive(inventory, 1)
        await inventory.apply(reserve("O-1", 1), max_attempts=3)
        (job,) = [j for j in inventory.runtime._periodic if j.name == "expire-reservations"]
        await asyncio.sleep(0.05)

        async with inventory.context.unit_of_work() as uow:
            await job.run(uow)

        assert job.name == "expire-reservations"
        assert await answers(inventory) == [("stock.reserved", "O-1"), ("stock.released", "O-1")]
        assert await mug(inventory) == (1, 0)
