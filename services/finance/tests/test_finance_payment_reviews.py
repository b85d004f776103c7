"""Service tests of payment reviews: a person's decision on a payment the provider held
(payment.resolve_review), through finance's real subscriber and database on FastStream's
in-memory broker. Answers are read from the outbox, since no relay runs here."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from faststream.kafka import TestKafkaBroker
from sqlmodel import col, select

from keel_contracts import Envelope, Message
from keel_contracts.commands import (
    AuthorizePayment,
    CapturePayment,
    ResolvePaymentReview,
    VoidPayment,
)
from keel_contracts.values import Money
from keel_finance.main import create_app
from keel_finance.payments import ProviderRefused, SimulatedProvider
from keel_finance.payments.simulated import authorization_id_for
from keel_finance.settings import Settings
from keel_kit.runtime import ServiceRuntime
from keel_kit.tables import OutboxRecord

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

COMMANDS = "finance.commands.v1"


@dataclass
class Finance:
    broker: Any
    client: httpx.AsyncClient
    runtime: ServiceRuntime

    async def send(self, command: Message, order_id: str) -> None:
        envelope = Envelope.wrap(command, source="order", correlation_id=order_id)
        await self.broker.publish(envelope.to_bytes(), COMMANDS, key=order_id.encode())

    async def rows(self, topic: str, key: str) -> list[OutboxRecord]:
        async with self.runtime.db.transaction() as session:
            query = (
                select(OutboxRecord)
                .where(OutboxRecord.topic == topic, OutboxRecord.key == key)
                .order_by(col(OutboxRecord.id))
            )
            return list((await session.exec(query)).all())

    async def answers(self, order_id: str) -> list[tuple[str, dict[str, Any]]]:
        rows = await self.rows("finance.payment.v1", order_id)
        return [(row.type, Envelope.from_bytes(row.body).payload) for row in rows]

    async def dead_letters(self, order_id: str) -> list[str]:
        rows = await self.rows("finance-service.dlq", order_id)
        return [str(row.headers["keel-error"]) for row in rows]

    async def payment(self, order_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/payments/{order_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest_asyncio.fixture
async def finance(tmp_path: Path) -> AsyncIterator[Finance]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'finance.db'}")
    app = create_app(settings, payment_provider=SimulatedProvider())
    runtime = app.state.runtime
    await runtime.migrate()
    transport = httpx.ASGITransport(app=app)
    async with (
        TestKafkaBroker(runtime.build_broker()) as broker,
        httpx.AsyncClient(transport=transport, base_url="http://finance") as client,
    ):
        yield Finance(broker, client, runtime)
    await runtime.db.dispose()


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


async def held(finance: Finance) -> str:
    """An order whose payment the provider held for review."""
    order_id = f"ORD-{uuid.uuid4().hex[:10]}"
    await finance.send(
        AuthorizePayment(order_id=order_id, amount=usd("40.00"), method="card", token="tok_review"),
        order_id,
    )
    assert [kind for kind, _ in await finance.answers(order_id)] == ["payment.held"]
    return order_id


def review(order_id: str, *, approve: bool, note: str = "checked") -> ResolvePaymentReview:
    return ResolvePaymentReview(order_id=order_id, approve=approve, note=note)


def authorized(order_id: str) -> tuple[str, dict[str, Any]]:
    return (
        "payment.authorized",
        {
            "order_id": order_id,
            "authorization_id": authorization_id_for(order_id),
            "amount": {"amount": "40.00", "currency": "USD"},
        },
    )


async def test_approved_review_authorizes_the_held_payment(finance: Finance) -> None:
    order_id = await held(finance)

    await finance.send(review(order_id, approve=True, note="cardholder verified"), order_id)

    assert (await finance.answers(order_id))[1:] == [authorized(order_id)]
    payment = await finance.payment(order_id)
    assert (payment["status"], payment["reason"]) == (
        "authorized",
        "review approved: cardholder verified",
    )
    assert await finance.dead_letters(order_id) == []


async def test_an_approved_review_can_be_captured(finance: Finance) -> None:
    order_id = await held(finance)
    await finance.send(review(order_id, approve=True), order_id)

    await finance.send(CapturePayment(order_id=order_id, amount=usd("40.00")), order_id)

    assert (await finance.answers(order_id))[-1][0] == "payment.captured"
    assert (await finance.payment(order_id))["status"] == "captured"
    assert await finance.dead_letters(order_id) == []


async def test_rejected_review_declines_the_payment_with_the_note(finance: Finance) -> None:
    order_id = await held(finance)

    await finance.send(review(order_id, approve=False, note="stolen card"), order_id)

    assert (await finance.answers(order_id))[1:] == [
        ("payment.declined", {"order_id": order_id, "reason": "review rejected: stolen card"})
    ]
    assert (await finance.payment(order_id))["status"] == "declined"
    # The order's compensation that follows a rejection finds nothing left to void.
    await finance.send(VoidPayment(order_id=order_id, reason="order rejected"), order_id)
    assert len(await finance.answers(order_id)) == 2
    assert await finance.dead_letters(order_id) == []


async def test_the_same_decision_again_only_repeats_the_answer(finance: Finance) -> None:
    order_id = await held(finance)
    await finance.send(review(order_id, approve=True, note="first"), order_id)
    await finance.send(review(order_id, approve=True, note="second"), order_id)

    assert (await finance.answers(order_id))[1:] == [authorized(order_id), authorized(order_id)]
    assert (await finance.payment(order_id))["reason"] == "review approved: first"
    assert await finance.dead_letters(order_id) == []


async def test_approving_a_declined_payment_is_dead_lettered(finance: Finance) -> None:
    order_id = await held(finance)
    await finance.send(review(order_id, approve=False), order_id)
    await finance.send(review(order_id, approve=True), order_id)

    (letter,) = await finance.dead_letters(order_id)
    assert f"the review of order {order_id} cannot be approved: its payment is declined" in letter
    assert (await finance.payment(order_id))["status"] == "declined"


async def test_rejecting_an_authorized_payment_is_dead_lettered(finance: Finance) -> None:
    order_id = f"ORD-{uuid.uuid4().hex[:10]}"
    await finance.send(
        AuthorizePayment(order_id=order_id, amount=usd("40.00"), method="card", token="tok_visa"),
        order_id,
    )
    await finance.send(review(order_id, approve=False), order_id)

    (letter,) = await finance.dead_letters(order_id)
    assert "cannot be rejected: its payment is authorized" in letter
    assert (await finance.payment(order_id))["status"] == "authorized"


async def test_a_review_for_an_order_without_payment_is_dead_lettered(finance: Finance) -> None:
    order_id = f"ORD-{uuid.uuid4().hex[:10]}"
    await finance.send(review(order_id, approve=True), order_id)

    (letter,) = await finance.dead_letters(order_id)
    assert f"order {order_id} has no payment to review" in letter
    assert await finance.answers(order_id) == []


# --- the simulated provider's side of a review ---


async def test_simulator_approves_a_review_once_and_refuses_a_voided_one() -> None:
    provider = SimulatedProvider()
    await provider.authorize(order_id="O-1", amount=usd("5.00"), method="card", token="tok_review")
    held_id = authorization_id_for("O-1")
    with pytest.raises(ProviderRefused, match="is review"):
        await provider.capture(authorization_id=held_id, amount=usd("5.00"))

    await provider.approve_review(authorization_id=held_id)
    await provider.approve_review(authorization_id=held_id)  # again: harmless
    await provider.capture(authorization_id=held_id, amount=usd("5.00"))

    await provider.authorize(order_id="O-2", amount=usd("5.00"), method="card", token="tok_review")
    voided_id = authorization_id_for("O-2")
    await provider.void(authorization_id=voided_id)
    with pytest.raises(ProviderRefused, match="is voided"):
        await provider.approve_review(authorization_id=voided_id)
