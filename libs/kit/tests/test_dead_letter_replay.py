"""A dead letter applied again by its consumer: once, with its audit work in the same
transaction, and dead-lettered again with its error when it still fails."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession
from test_consumer import Behaviour, processor

from keel_kit.db import Database
from keel_kit.dead_letters import DeadLetter
from kit_fixtures import Applied, applied_quantities, outbox_rows, receipt

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]


def letter(body: bytes) -> DeadLetter:
    return DeadLetter(
        topic="finance-service.dlq",
        partition=0,
        offset=7,
        key="SKU-1",
        value=body,
        headers={
            "keel-original-topic": "inventory.stock.v1",
            "keel-original-partition": "2",
            "keel-original-offset": "40",
            "keel-error": "ValueError: quantity 9 is refused",
            "keel-type": "stock.received",
        },
    )


class Alongside:
    """Stands in for the replay's audit entry: records what it was told, in the transaction."""

    def __init__(self) -> None:
        self.told: list[str | None] = []

    async def __call__(self, session: AsyncSession, error: str | None) -> None:
        session.add(Applied(movement_id=f"audit-{len(self.told)}", quantity=-1))
        self.told.append(error)


async def test_a_corrected_letter_is_applied_once_with_its_audit(db: Database) -> None:
    behaviour = Behaviour()
    behaviour.reject_quantity = 9
    consumer = processor(db, behaviour)
    broken = letter(receipt(9).to_bytes())
    corrected = broken.original_record(receipt(3).to_bytes())
    assert (corrected.topic, corrected.partition, corrected.offset) == (
        "inventory.stock.v1",
        2,
        40,
    )
    assert corrected.header("keel-replayed-from") == "finance-service.dlq@7"
    assert corrected.header("keel-error") is None
    audit = Alongside()

    assert await consumer.replay(corrected, audit) is None
    assert await consumer.replay(corrected, audit) is None  # applied before: not twice

    assert await applied_quantities(db) == [-1, -1, 3]  # two audit stand-ins, one receipt
    assert audit.told == [None, None]


async def test_a_letter_that_fails_again_is_dead_lettered_again_with_its_error(
    db: Database,
) -> None:
    behaviour = Behaviour()
    behaviour.reject_quantity = 9
    audit = Alongside()

    error = await processor(db, behaviour).replay(
        letter(receipt(9).to_bytes()).original_record(), audit
    )

    assert error is not None
    assert "quantity 9 is refused" in error
    assert audit.told == [error]
    [dead] = await outbox_rows(db)
    assert dead.topic == "finance-service.dlq"
    assert dead.headers["keel-original-offset"] == "40"
