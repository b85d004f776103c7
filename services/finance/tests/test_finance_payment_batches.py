"""Payments inside the kit's batches: many commands in one transaction, and a batch redone after
one of its commands failed. Driven through the kit's BatchProcessor, as the broker would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio
from sqlmodel import col, select

from keel_contracts import Envelope
from keel_contracts.commands import AuthorizePayment, CapturePayment
from keel_contracts.values import Money
from keel_finance import repository
from keel_finance.handlers import handlers
from keel_finance.main import create_app
from keel_finance.payments import Authorization, SimulatedProvider
from keel_finance.settings import Settings
from keel_kit.consumer import BatchProcessor, Record
from keel_kit.runtime import ServiceRuntime
from keel_kit.tables import OutboxRecord

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


class CountingProvider(SimulatedProvider):
    def __init__(self) -> None:
        super().__init__()
        self.authorizations = 0

    async def authorize(
        self, *, order_id: str, amount: Money, method: str, token: str
    ) -> Authorization:
        self.authorizations += 1
        return await super().authorize(order_id=order_id, amount=amount, method=method, token=token)


@pytest.fixture
def provider() -> CountingProvider:
    return CountingProvider()


@pytest_asyncio.fixture
async def runtime(tmp_path: Path, provider: CountingProvider) -> AsyncIterator[ServiceRuntime]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'finance.db'}")
    app = create_app(settings, payment_provider=provider)
    runtime: ServiceRuntime = app.state.runtime
    await runtime.migrate()
    yield runtime
    await runtime.db.dispose()


def processor(runtime: ServiceRuntime) -> BatchProcessor:
    return BatchProcessor(
        consumer=runtime.settings.consumer_group,
        handlers=handlers,
        db=runtime.db,
        outbox=runtime.outbox,
        metrics=runtime.metrics,
        max_attempts=1,
        backoff_seconds=0.01,
    )


def batch(*commands: AuthorizePayment | CapturePayment) -> list[Record]:
    return [
        Record(
            topic="finance.commands.v1",
            partition=0,
            offset=offset,
            key=command.order_id.encode(),
            value=Envelope.wrap(command, source="order", correlation_id="o").to_bytes(),
        )
        for offset, command in enumerate(commands)
    ]


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def authorize(order_id: str, amount: str = "40.00") -> AuthorizePayment:
    return AuthorizePayment(order_id=order_id, amount=usd(amount), method="card", token="tok_visa")


async def staged(runtime: ServiceRuntime, topic: str, order_id: str) -> list[str]:
    """The types of the messages staged in the outbox on `topic` for the order."""
    async with runtime.db.transaction() as session:
        rows = await session.exec(
            select(OutboxRecord.type)
            .where(OutboxRecord.topic == topic, OutboxRecord.key == order_id)
            .order_by(col(OutboxRecord.id))
        )
        return list(rows.all())


async def journal_entries(runtime: ServiceRuntime, order_id: str) -> int:
    async with runtime.db.transaction() as session:
        return len(await repository.entries_for_source(session, order_id))


async def test_commands_for_one_order_in_one_batch_see_each_other(
    runtime: ServiceRuntime, provider: CountingProvider
) -> None:
    commands = batch(
        authorize("O-1"), authorize("O-1"), CapturePayment(order_id="O-1", amount=usd("40"))
    )

    assert await processor(runtime).process(commands) == 3
    assert await staged(runtime, "finance.payment.v1", "O-1") == [
        "payment.authorized",
        "payment.authorized",
        "payment.captured",
    ]
    assert provider.authorizations == 1
    assert await journal_entries(runtime, "O-1") == 1


async def test_a_batch_redone_around_a_failed_capture_still_captures_the_others(
    runtime: ServiceRuntime,
) -> None:
    assert await processor(runtime).process(batch(authorize("BAD", amount="5.00"))) == 1
    commands = batch(
        authorize("GOOD"),
        CapturePayment(order_id="GOOD", amount=usd("40.00")),
        CapturePayment(order_id="BAD", amount=usd("6.00")),  # fails, so the batch is redone
    )

    # The redo asks the provider to capture GOOD a second time; it must not refuse.
    assert await processor(runtime).process(commands) == 2
    assert await staged(runtime, "finance.payment.v1", "GOOD") == [
        "payment.authorized",
        "payment.captured",
    ]
    assert await journal_entries(runtime, "GOOD") == 1
    assert await staged(runtime, "finance-service.dlq", "BAD") == ["dead_letter"]
