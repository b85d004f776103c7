from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from keel_contracts import Envelope
from keel_contracts.events import StockReceived
from keel_kit import observed
from keel_kit.consumer import BatchProcessor
from keel_kit.db import Database
from keel_kit.decoding import Record
from keel_kit.handlers import Handlers, MessageContext, TransientError
from keel_kit.metrics import KitMetrics
from keel_kit.outbox import Outbox
from kit_fixtures import Applied, applied_quantities, outbox_rows, receipt, record

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]


class Behaviour:
    """Lets a test make the handler fail in chosen ways."""

    def __init__(self) -> None:
        self.transient_failures = 0
        self.reject_quantity: int | None = None
        self.counted: list[int] = []  # what the handler's after-commit observations saw


def processor(db: Database, behaviour: Behaviour, *, max_attempts: int = 3) -> BatchProcessor:
    handlers = Handlers()

    @handlers.on(StockReceived)
    async def on_received(ctx: MessageContext[None], event: StockReceived) -> None:
        ctx.session.add(Applied(movement_id=event.movement_id, quantity=event.quantity))
        observed.after_commit(ctx.session, lambda: behaviour.counted.append(event.quantity))
        await ctx.session.flush()  # the write happens, so a rollback must really undo it
        if behaviour.transient_failures:
            behaviour.transient_failures -= 1
            raise TransientError("database briefly away")
        if event.quantity == behaviour.reject_quantity:
            raise ValueError(f"quantity {event.quantity} is refused")

    return BatchProcessor(
        consumer="finance-service",
        handlers=handlers,
        db=db,
        outbox=Outbox("finance"),
        metrics=KitMetrics("finance"),
        max_attempts=max_attempts,
        backoff_seconds=0.001,
        service=None,
    )


async def test_each_event_is_applied_once_across_batches(db: Database) -> None:
    consumer = processor(db, Behaviour())
    first, second = receipt(1), receipt(2)

    assert await consumer.process([record(first.to_bytes()), record(second.to_bytes(), 1)]) == 2
    assert await consumer.process([record(first.to_bytes(), 2)]) == 0

    assert await applied_quantities(db) == [1, 2]


async def test_a_duplicate_inside_one_batch_is_applied_once(db: Database) -> None:
    event = receipt(5)

    applied = await processor(db, Behaviour()).process(
        [record(event.to_bytes()), record(event.to_bytes(), 1)]
    )

    assert applied == 1
    assert await applied_quantities(db) == [5]


async def test_malformed_message_is_dead_lettered_and_the_rest_applied(db: Database) -> None:
    good = receipt(3)

    applied = await processor(db, Behaviour()).process(
        [record(b"not json at all", 7), record(good.to_bytes(), 8)]
    )

    assert applied == 1
    assert await applied_quantities(db) == [3]
    (letter,) = await outbox_rows(db)
    assert letter.topic == "finance-service.dlq"
    assert letter.body == b"not json at all"
    assert letter.headers["keel-original-offset"] == "7"
    assert letter.headers["keel-error"].startswith("invalid envelope")


async def test_another_consumers_message_is_skipped_by_its_type_header_unparsed(
    db: Database,
) -> None:
    good = receipt(3)
    theirs = replace(record(b"{ not even json", 4), headers=(("keel-type", b"stock.issued"),))

    applied = await processor(db, Behaviour()).process([theirs, record(good.to_bytes(), 5)])

    assert applied == 1
    assert await applied_quantities(db) == [3]
    assert await outbox_rows(db) == []  # not parsed, so not dead-lettered either


def typed(envelope: Envelope, offset: int, *, declared: str = "stock.received") -> Record:
    """A record as the relay sends it: its type in a header too."""
    return replace(record(envelope.to_bytes(), offset), headers=(("keel-type", declared.encode()),))


async def test_a_record_typed_in_its_header_is_read_in_one_pass_with_the_same_verdicts(
    db: Database,
) -> None:
    good = receipt(3)
    bad = receipt(4).model_copy(update={"payload": {"movement_id": "M-9", "quantity": "many"}})
    teleported = receipt(5).model_copy(update={"type": "stock.teleported"})

    applied = await processor(db, Behaviour()).process(
        [typed(good, 1), typed(bad, 2), typed(teleported, 3)]
    )

    assert applied == 1
    assert await applied_quantities(db) == [3]
    bad_letter, teleported_letter = await outbox_rows(db)
    # A payload its header's type refuses, and a body of another type than its header says,
    # are judged the long way: the errors are the same as without the header.
    assert bad_letter.headers["keel-error"].startswith("invalid stock.received: ")
    assert "quantity" in bad_letter.headers["keel-error"]
    assert teleported_letter.headers["keel-error"].startswith(
        "unknown message type 'stock.teleported'"
    )


async def test_failing_handler_is_rolled_back_and_dead_lettered(db: Database) -> None:
    behaviour = Behaviour()
    behaviour.reject_quantity = 4
    bad, good = receipt(4), receipt(6)

    applied = await processor(db, behaviour).process(
        [record(bad.to_bytes()), record(good.to_bytes(), 1)]
    )

    assert applied == 1
    assert await applied_quantities(db) == [6]  # the refused event's own write was undone
    # Both were observed in the batch that failed and again when isolated: only what committed
    # counts, once.
    assert behaviour.counted == [6]
    (letter,) = await outbox_rows(db)
    assert letter.headers["keel-error"] == "ValueError: quantity 4 is refused"


async def test_dead_lettered_event_is_applied_when_replayed(db: Database) -> None:
    behaviour = Behaviour()
    behaviour.reject_quantity = 4
    consumer = processor(db, behaviour)
    event = receipt(4)
    await consumer.process([record(event.to_bytes())])

    behaviour.reject_quantity = None  # the cause was fixed; the operator replays
    assert await consumer.process([record(event.to_bytes(), 9)]) == 1
    assert await applied_quantities(db) == [4]


async def test_transient_failure_is_retried_until_it_succeeds(db: Database) -> None:
    behaviour = Behaviour()
    behaviour.transient_failures = 2

    assert await processor(db, behaviour, max_attempts=3).process([record(receipt(1).to_bytes())])
    assert await applied_quantities(db) == [1]
    assert await outbox_rows(db) == []
    assert behaviour.counted == [1]  # three attempts, one commit


async def test_persistent_transient_failure_raises_and_commits_nothing(db: Database) -> None:
    behaviour = Behaviour()
    behaviour.transient_failures = 10
    consumer = processor(db, behaviour, max_attempts=3)

    with pytest.raises(TransientError):
        await consumer.process([record(receipt(1).to_bytes())])

    assert await applied_quantities(db) == []
    assert await outbox_rows(db) == []
    assert behaviour.counted == []


async def test_database_errors_count_as_transient(db: Database, tmp_path: Path) -> None:
    consumer = processor(db, Behaviour(), max_attempts=2)
    await db.dispose()
    (tmp_path / "kit.db").unlink()
    (tmp_path / "kit.db").mkdir()  # the database file is now unusable

    with pytest.raises(OperationalError):
        await consumer.process([record(receipt(1).to_bytes())])


async def test_a_write_that_fails_only_at_commit_is_isolated_and_dead_lettered(
    db: Database,
) -> None:
    handlers = Handlers()

    @handlers.on(StockReceived)
    async def on_received(ctx: MessageContext[None], event: StockReceived) -> None:
        # No flush here: on the fast path the bad row only fails when the batch commits. A list
        # is a value the driver cannot store (as an over-long string is on PostgreSQL).
        bad: Any = ["not", "storable"]
        quantity = bad if event.quantity == 13 else event.quantity
        ctx.session.add(Applied(movement_id=event.movement_id, quantity=quantity))

    consumer = BatchProcessor(
        consumer="finance-service",
        handlers=handlers,
        db=db,
        outbox=Outbox("finance"),
        metrics=KitMetrics("finance"),
        max_attempts=2,
        backoff_seconds=0.001,
        service=None,
    )
    applied = await consumer.process(
        [record(receipt(13).to_bytes()), record(receipt(2).to_bytes(), 1)]
    )

    assert applied == 1
    assert await applied_quantities(db) == [2]
    (letter,) = await outbox_rows(db)
    assert letter.topic == "finance-service.dlq"


async def test_a_type_no_contract_of_the_topic_names_is_dead_lettered_with_the_reason(
    db: Database,
) -> None:
    newer = replace(record(b"{}", 4), headers=(("keel-type", b"stock.teleported"),))

    applied = await processor(db, Behaviour()).process([newer, record(receipt(3).to_bytes(), 5)])

    assert applied == 1
    (letter,) = await outbox_rows(db)
    assert letter.topic == "finance-service.dlq"
    assert letter.headers["keel-original-offset"] == "4"
    assert letter.headers["keel-error"].startswith("unknown message type 'stock.teleported'")


async def test_an_unknown_type_without_a_type_header_is_dead_lettered_too(db: Database) -> None:
    envelope = receipt(3).model_copy(update={"type": "stock.teleported"})

    assert await processor(db, Behaviour()).process([record(envelope.to_bytes(), 6)]) == 0

    (letter,) = await outbox_rows(db)
    assert "unknown message type 'stock.teleported'" in letter.headers["keel-error"]


async def test_a_message_with_a_key_of_any_length_can_be_dead_lettered(db: Database) -> None:
    long_key = replace(record(b"not json", 8), key=b"K" * 5000)

    assert await processor(db, Behaviour()).process([long_key]) == 0

    (letter,) = await outbox_rows(db)
    assert letter.key == "K" * 5000
