"""Service tests: what finance paid on a return's refunds (`payment.refunded`), on a real
(SQLite) database, with the other services' events fed through FastStream's in-memory broker or
applied as one consumer batch."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from faststream.kafka import TestKafkaBroker
from sqlalchemy import event
from sqlmodel import col, select

from keel_contracts import Envelope, Message, topic_for_message
from keel_contracts.events import (
    OrderedLine,
    OrderPlaced,
    OrderReleased,
    PaymentRefunded,
    ShipmentShipped,
)
from keel_contracts.values import Line, Money
from keel_kit.consumer import BatchProcessor, Record
from keel_kit.runtime import ServiceRuntime
from keel_kit.tables import OutboxRecord
from keel_returns.main import create_app
from keel_returns.settings import Settings

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

PAID_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DLQ = "returns-service.dlq"
_offsets = itertools.count()


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def envelope(message: Message, at: datetime | None = None) -> Envelope:
    wrapped = Envelope.wrap(message, source="test", correlation_id="t")
    return wrapped if at is None else wrapped.model_copy(update={"occurred_at": at})


def paid(refund: dict[str, Any], amount: str, currency: str = "USD") -> PaymentRefunded:
    """Finance's answer to a refund as the return view shows it."""
    return PaymentRefunded(
        order_id=refund["order_id"],
        refund_id=refund["refund_id"],
        return_id=refund["return_id"],
        amount=Money(amount=Decimal(amount), currency=currency),
    )


@dataclass
class Stack:
    runtime: ServiceRuntime
    broker: Any
    client: httpx.AsyncClient

    async def deliver(self, message: Message, *, at: datetime | None = None) -> Envelope:
        wrapped = envelope(message, at)
        await self.publish(wrapped)
        return wrapped

    async def publish(self, wrapped: Envelope) -> None:
        topic = topic_for_message(Message.registry[wrapped.type]).name
        await self.broker.publish(wrapped.to_bytes(), topic, key=b"k")

    async def returned(self, order_id: str, sku: str, price: str, grade: str = "A") -> str:
        """An order of one unit at `price`, shipped, returned, received and graded: its refund
        is requested (or waits for approval above the threshold)."""
        unit_price = Money(amount=Decimal(price), currency="USD")
        await self.deliver(
            OrderPlaced(
                order_id=order_id,
                channel="web",
                customer_id="c-1",
                lines=(OrderedLine(sku=sku, quantity=1, unit_price=unit_price),),
                total=unit_price,
                shipping=Money(amount=Decimal("0.00"), currency="USD"),
            )
        )
        await self.deliver(OrderReleased(order_id=order_id, channel="web", allocations=()))
        await self.deliver(
            ShipmentShipped(
                shipment_id=f"s-{order_id}",
                order_id=order_id,
                location_id="WH-A",
                lines=(Line(sku=sku, quantity=1),),
                carrier="UPS",
                tracking_number="1Z",
            )
        )
        body = {"order_id": order_id, "lines": [{"sku": sku, "quantity": 1, "reason": "broken"}]}
        created = await self.client.post("/v1/returns", json=body)
        assert created.status_code == 201, created.text
        return_id = str(created.json()["return_id"])
        receipt = {"location_id": "WH-R", "lines": [{"sku": sku, "quantity": 1}]}
        received = await self.client.post(f"/v1/returns/{return_id}/receipt", json=receipt)
        assert received.status_code == 200, received.text
        graded = {"lines": [{"sku": sku, "quantity": 1, "grade": grade}]}
        inspected = await self.client.post(f"/v1/returns/{return_id}/inspection", json=graded)
        assert inspected.status_code == 200, inspected.text
        return return_id

    async def view(self, return_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/returns/{return_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def refund(self, return_id: str) -> dict[str, Any]:
        [refund] = (await self.view(return_id))["refunds"]
        return dict(refund)

    async def dead_letters(self) -> list[str]:
        async with self.runtime.db.transaction() as session:
            rows = await session.exec(
                select(OutboxRecord).where(OutboxRecord.topic == DLQ).order_by(col(OutboxRecord.id))
            )
            return [str(row.headers["keel-error"]) for row in rows.all()]

    async def apply_batch(self, *messages: Message) -> tuple[int, list[str]]:
        """Apply the messages as one consumer batch, all paid at PAID_AT; return how many took
        effect and the SELECTs it ran."""
        runtime = self.runtime
        processor = BatchProcessor(
            consumer=runtime.settings.consumer_group,
            handlers=runtime.handlers,
            db=runtime.db,
            outbox=runtime.outbox,
            metrics=runtime.metrics,
            max_attempts=1,
            backoff_seconds=0.01,
        )
        records = [
            Record(
                topic=topic_for_message(type(m)).name,
                partition=0,
                offset=next(_offsets),
                key=b"k",
                value=envelope(m, PAID_AT).to_bytes(),
            )
            for m in messages
        ]
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                statements.append(statement)

        engine = runtime.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            applied = await processor.process(records)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return applied, statements


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'returns.db'}"))
    runtime: ServiceRuntime = app.state.runtime
    await runtime.migrate()
    async with (
        TestKafkaBroker(runtime.build_broker()) as broker,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client,
    ):
        yield Stack(runtime, broker, client)
    await runtime.db.dispose()


def moment(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


async def test_a_refund_paid_in_full_closes_the_return_and_shows_each_step(stack: Stack) -> None:
    return_id = await stack.returned("o-1", "MUG-1", "20.00")
    refund = await stack.refund(return_id)
    assert (refund["status"], refund["refunded"], refund["shortfall"]) == ("requested", None, None)

    await stack.deliver(paid(refund, "20.00"), at=PAID_AT)

    view = await stack.view(return_id)
    [refund] = view["refunds"]
    assert (view["status"], view["note"]) == ("refunded", None)
    assert (refund["status"], refund["amount"], refund["refunded"], refund["shortfall"]) == (
        "refunded",
        usd("20.00"),
        usd("20.00"),
        usd("0.00"),
    )
    assert moment(refund["refunded_at"]) == PAID_AT
    assert moment(view["refunded_at"]) == PAID_AT
    assert view["authorized_at"] == view["created_at"]
    steps = [moment(view[f"{step}_at"]) for step in ("authorized", "received", "inspected")]
    assert steps == sorted(steps)
    assert await stack.dead_letters() == []


async def test_a_short_refund_records_the_shortfall(stack: Stack) -> None:
    return_id = await stack.returned("o-2", "MUG-1", "58.00")
    refund = await stack.refund(return_id)

    await stack.deliver(paid(refund, "40.00"), at=PAID_AT)

    view = await stack.view(return_id)
    [refund] = view["refunds"]
    assert (refund["amount"], refund["refunded"], refund["shortfall"]) == (
        usd("58.00"),
        usd("40.00"),
        usd("18.00"),
    )
    assert view["status"] == "refunded"
    assert view["note"] == (
        f"refund {refund['refund_id']} paid 40.00 of 58.00 USD requested: 18.00 short "
        "(finance refunds no more than it captured)"
    )


async def test_a_redelivered_or_reannounced_payment_changes_nothing(stack: Stack) -> None:
    return_id = await stack.returned("o-3", "MUG-1", "20.00")
    refund = await stack.refund(return_id)
    first = await stack.deliver(paid(refund, "15.00"), at=PAID_AT)
    before = await stack.view(return_id)

    await stack.publish(first)  # the same event again (the inbox drops it)
    # finance announces the refund again under a new event id, later
    await stack.deliver(paid(refund, "15.00"), at=PAID_AT + timedelta(hours=1))

    assert await stack.view(return_id) == before
    assert moment(before["refunded_at"]) == PAID_AT
    assert before["refunds"][0]["shortfall"] == usd("5.00")
    assert await stack.dead_letters() == []


async def test_a_payment_of_an_unknown_refund_is_dead_lettered(stack: Stack) -> None:
    return_id = await stack.returned("o-4", "MUG-1", "20.00")
    refund = await stack.refund(return_id)

    await stack.deliver(paid({**refund, "refund_id": "nope"}, "20.00"))

    assert await stack.dead_letters() == [
        f"PermanentError: payment.refunded for unknown refund nope (return {return_id}, order o-4)"
    ]
    view = await stack.view(return_id)
    assert (view["status"], view["refunds"][0]["status"]) == ("refund_requested", "requested")


async def test_a_payment_naming_another_return_is_dead_lettered(stack: Stack) -> None:
    return_id = await stack.returned("o-5", "MUG-1", "20.00")
    refund = await stack.refund(return_id)

    await stack.deliver(paid({**refund, "return_id": "r-other"}, "20.00"))

    assert await stack.dead_letters() == [
        f"PermanentError: payment.refunded names refund {refund['refund_id']} of return "
        f"r-other, order o-5; it is of return {return_id}, order o-5"
    ]
    assert (await stack.view(return_id))["status"] == "refund_requested"


async def test_a_payment_above_the_request_is_dead_lettered(stack: Stack) -> None:
    return_id = await stack.returned("o-6", "MUG-1", "20.00")
    refund = await stack.refund(return_id)

    await stack.deliver(paid(refund, "25.00"))

    assert await stack.dead_letters() == [
        f"PermanentError: refund {refund['refund_id']} paid 25.00 USD: not between 0 and the "
        "20.00 requested"
    ]
    assert (await stack.refund(return_id))["status"] == "requested"


async def test_a_payment_in_another_currency_is_dead_lettered(stack: Stack) -> None:
    return_id = await stack.returned("o-7", "MUG-1", "20.00")
    refund = await stack.refund(return_id)

    await stack.deliver(paid(refund, "20.00", currency="EUR"))

    assert await stack.dead_letters() == [
        f"PermanentError: refund {refund['refund_id']} was requested in USD, paid in EUR"
    ]
    assert (await stack.refund(return_id))["refunded"] is None


async def test_a_payment_of_a_refund_waiting_for_approval_is_dead_lettered(stack: Stack) -> None:
    return_id = await stack.returned("o-8", "TV-1", "800.00")
    refund = await stack.refund(return_id)
    assert refund["status"] == "pending_approval"

    await stack.deliver(paid(refund, "800.00"))

    assert await stack.dead_letters() == [
        f"PermanentError: refund {refund['refund_id']} is waiting for approval: finance was "
        "never asked to pay it"
    ]
    assert (await stack.view(return_id))["status"] == "refund_pending_approval"


async def test_an_approved_refund_once_paid_closes_the_return(stack: Stack) -> None:
    return_id = await stack.returned("o-9", "TV-1", "800.00")
    refund = await stack.refund(return_id)
    url = f"/v1/refunds/{refund['refund_id']}/approve"
    assert (await stack.client.post(url, json={"approver": "fiona"})).status_code == 200

    await stack.deliver(paid(refund, "800.00"), at=PAID_AT)

    view = await stack.view(return_id)
    assert (view["status"], view["refunds"][0]["refunded"]) == ("refunded", usd("800.00"))
    again = await stack.client.post(url, json={"approver": "fiona"})
    assert again.status_code == 409


async def test_payments_in_one_batch_are_read_in_a_fixed_number_of_queries(stack: Stack) -> None:
    refunds = [
        await stack.refund(await stack.returned(f"o-b{n}", "MUG-1", "20.00")) for n in range(3)
    ]

    applied, selects = await stack.apply_batch(
        paid(refunds[0], "20.00"),
        paid(refunds[1], "12.50"),
        paid(refunds[2], "20.00"),
        paid(refunds[0], "20.00"),  # finance's re-announcement within the batch
    )

    assert applied == 4
    # The inbox, the orders with their items and shipments, the returns and their refunds.
    assert len(selects) == 6
    views = [await stack.view(r["return_id"]) for r in refunds]
    assert [v["status"] for v in views] == ["refunded", "refunded", "refunded"]
    assert [v["refunds"][0]["shortfall"] for v in views] == [
        usd("0.00"),
        usd("7.50"),
        usd("0.00"),
    ]


async def test_an_unknown_refund_in_a_batch_leaves_the_others_settled(stack: Stack) -> None:
    refund = await stack.refund(await stack.returned("o-c", "MUG-1", "20.00"))

    applied, _ = await stack.apply_batch(
        paid({**refund, "refund_id": "ghost"}, "20.00"), paid(refund, "20.00")
    )

    assert applied == 1
    assert (await stack.view(refund["return_id"]))["status"] == "refunded"
    [letter] = await stack.dead_letters()
    assert letter.startswith("PermanentError: payment.refunded for unknown refund ghost")
