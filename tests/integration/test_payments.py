"""Payments over the real broker and PostgreSQL: commands on finance.commands.v1 are answered on
finance.payment.v1 and recorded; a capture books cash, a void releases the authorization."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import pytest

from keel_contracts import Envelope
from keel_contracts.commands import AuthorizePayment, CapturePayment, VoidPayment
from keel_contracts.values import Money
from keel_kit.topic_reader import read_topic
from tests.conftest import Infra
from tests.integration.support import (
    ServiceProcess,
    StartService,
    eventually,
    journal_entries,
    produce_many,
)

pytestmark = pytest.mark.integration

COMMANDS = "finance.commands.v1"
ANSWERS = "finance.payment.v1"
Answers = dict[str, list[tuple[str, dict[str, Any]]]]


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def send(infra: Infra, *commands: AuthorizePayment | CapturePayment | VoidPayment) -> None:
    messages = [
        (c.order_id, Envelope.wrap(c, source="order", correlation_id=c.order_id).to_bytes())
        for c in commands
    ]
    asyncio.run(produce_many(infra.bootstrap, COMMANDS, messages))


def answers_for(infra: Infra, order_ids: list[str]) -> Answers:
    """Every answer on finance.payment.v1 for these orders, in order, with envelope checks."""
    found: Answers = {order_id: [] for order_id in order_ids}
    for record in asyncio.run(read_topic(infra.kafka, ANSWERS)):
        envelope = Envelope.from_bytes(record.value)
        order_id = envelope.payload.get("order_id")
        if order_id in found:
            assert record.key == order_id.encode()
            assert (envelope.source, envelope.correlation_id) == ("finance", order_id)
            found[order_id].append((envelope.type, envelope.payload))
    return found


def wait_for_answers(infra: Infra, expected: dict[str, int]) -> Answers:
    def enough() -> Answers | None:
        found = answers_for(infra, list(expected))
        done = all(len(found[order_id]) >= count for order_id, count in expected.items())
        return found if done else None

    return eventually(enough, what="payment answers on finance.payment.v1")


def payment(finance: ServiceProcess, order_id: str) -> dict[str, Any]:
    response = finance.get(f"/v1/payments/{order_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_payments_are_authorized_then_captured_or_voided(
    infra: Infra, start_service: StartService
) -> None:
    finance = start_service("finance")
    run = uuid.uuid4().hex[:8]
    to_capture, to_void, declined, held = (
        f"PAY-{run}-{name}" for name in ("capture", "void", "declined", "held")
    )
    tokens = {to_capture: "tok_visa", to_void: "tok_visa", declined: "tok_declined"}
    tokens[held] = "tok_review"
    send(
        infra,
        *(
            AuthorizePayment(order_id=order_id, amount=usd("25.00"), method="card", token=token)
            for order_id, token in tokens.items()
        ),
    )

    answers = wait_for_answers(infra, dict.fromkeys(tokens, 1))
    ((kind, authorized),) = answers[to_capture]
    assert kind == "payment.authorized"
    assert authorized["amount"] == {"amount": "25.00", "currency": "USD"}
    authorization_id = authorized["authorization_id"]
    assert answers[to_void][0][0] == "payment.authorized"
    assert answers[declined] == [
        ("payment.declined", {"order_id": declined, "reason": "card declined"})
    ]
    assert answers[held][0][0] == "payment.held"
    assert {order_id: payment(finance, order_id)["status"] for order_id in tokens} == {
        to_capture: "authorized",
        to_void: "authorized",
        declined: "declined",
        held: "held",
    }
    assert payment(finance, to_capture)["authorization_id"] == authorization_id
    assert journal_entries(finance, to_capture) == []  # authorizing moves no money
    assert finance.get(f"/v1/payments/PAY-{run}-unknown").status_code == 404

    send(infra, CapturePayment(order_id=to_capture, amount=usd("20.00")))
    send(infra, VoidPayment(order_id=to_void, reason="order cancelled"))

    answers = wait_for_answers(infra, {to_capture: 2, to_void: 2})
    assert answers[to_capture][1] == (
        "payment.captured",
        {
            "order_id": to_capture,
            "authorization_id": authorization_id,
            "amount": {"amount": "20.00", "currency": "USD"},
        },
    )
    assert answers[to_void][1][0] == "payment.voided"
    captured = payment(finance, to_capture)
    assert (captured["status"], captured["captured_amount"]) == ("captured", "20.00")
    assert payment(finance, to_void)["status"] == "voided"
    (entry,) = journal_entries(finance, to_capture)
    assert [(line["account"], line["debit"], line["credit"]) for line in entry["lines"]] == [
        ("1000", "20.00", "0.00"),
        ("1100", "0.00", "20.00"),
    ]
    # Other tests' stock receipts may reach this database too (one consumer group per
    # service), so only the balance, not the totals, is this test's to check.
    assert finance.get("/v1/trial-balance").json()["balanced"] is True
