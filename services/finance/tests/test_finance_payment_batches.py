"""Payments inside the kit's batches: many commands in one transaction, and a batch redone after
one of its commands failed. Driven through the kit's batch consumer, as the broker would."""

from __future__ import annotations

import pytest

from finance_harness import Finance, usd
from keel_contracts.commands import AuthorizePayment, CapturePayment

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def authorize(order_id: str, amount: str = "40.00") -> AuthorizePayment:
    return AuthorizePayment(order_id=order_id, amount=usd(amount), method="card", token="tok_visa")


async def staged(finance: Finance, topic: str, order_id: str) -> list[str]:
    """The types of the messages staged in the outbox on `topic` for the order."""
    return [envelope.type for envelope in await finance.staged(topic, order_id)]


async def test_commands_for_one_order_in_one_batch_see_each_other(finance: Finance) -> None:
    commands = (
        authorize("O-1"),
        authorize("O-1"),
        CapturePayment(order_id="O-1", amount=usd("40")),
    )

    assert await finance.apply(*commands) == 3
    assert await staged(finance, "finance.payment.v1", "O-1") == [
        "payment.authorized",
        "payment.authorized",
        "payment.captured",
    ]
    assert finance.provider.authorizations == 1
    assert len(await finance.journal("O-1")) == 1


async def test_a_batch_redone_around_a_failed_capture_still_captures_the_others(
    finance: Finance,
) -> None:
    assert await finance.apply(authorize("BAD", amount="5.00")) == 1
    commands = (
        authorize("GOOD"),
        CapturePayment(order_id="GOOD", amount=usd("40.00")),
        CapturePayment(order_id="BAD", amount=usd("6.00")),  # fails, so the batch is redone
    )

    # The redo asks the provider to capture GOOD a second time; it must not refuse.
    assert await finance.apply(*commands) == 2
    assert await staged(finance, "finance.payment.v1", "GOOD") == [
        "payment.authorized",
        "payment.captured",
    ]
    assert len(await finance.journal("GOOD")) == 1
    assert len(await finance.dead_letters("BAD")) == 1
