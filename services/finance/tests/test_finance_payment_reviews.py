"""Service tests of payment reviews: a person's decision on a payment the provider held
(payment.resolve_review), through finance's real subscriber and database on FastStream's
in-memory broker. Answers are read from the outbox, since no relay runs here."""

from __future__ import annotations

from typing import Any

import pytest

from finance_harness import Finance, new_order, usd
from keel_contracts.commands import (
    AuthorizePayment,
    CapturePayment,
    ResolvePaymentReview,
    VoidPayment,
)
from keel_finance.payments import ProviderRefused, SimulatedProvider
from keel_finance.payments.simulated import authorization_id_for

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def held(finance: Finance) -> str:
    """An order whose payment the provider held for review."""
    order_id = new_order()
    await finance.publish(
        AuthorizePayment(order_id=order_id, amount=usd("40.00"), method="card", token="tok_review")
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

    await finance.publish(review(order_id, approve=True, note="cardholder verified"))

    assert (await finance.answers(order_id))[1:] == [authorized(order_id)]
    payment = await finance.payment(order_id)
    assert (payment["status"], payment["reason"]) == (
        "authorized",
        "review approved: cardholder verified",
    )
    assert await finance.dead_letters(order_id) == []


async def test_an_approved_review_can_be_captured(finance: Finance) -> None:
    order_id = await held(finance)
    await finance.publish(review(order_id, approve=True))

    await finance.publish(CapturePayment(order_id=order_id, amount=usd("40.00")))

    assert (await finance.answers(order_id))[-1][0] == "payment.captured"
    assert (await finance.payment(order_id))["status"] == "captured"
    assert await finance.dead_letters(order_id) == []


async def test_rejected_review_declines_the_payment_with_the_note(finance: Finance) -> None:
    order_id = await held(finance)

    await finance.publish(review(order_id, approve=False, note="stolen card"))

    assert (await finance.answers(order_id))[1:] == [
        ("payment.declined", {"order_id": order_id, "reason": "review rejected: stolen card"})
    ]
    assert (await finance.payment(order_id))["status"] == "declined"
    # The order's compensation that follows a rejection finds nothing left to void.
    await finance.publish(VoidPayment(order_id=order_id, reason="order rejected"))
    assert len(await finance.answers(order_id)) == 2
    assert await finance.dead_letters(order_id) == []


async def test_the_same_decision_again_only_repeats_the_answer(finance: Finance) -> None:
    order_id = await held(finance)
    await finance.publish(review(order_id, approve=True, note="first"))
    await finance.publish(review(order_id, approve=True, note="second"))

    assert (await finance.answers(order_id))[1:] == [authorized(order_id), authorized(order_id)]
    assert (await finance.payment(order_id))["reason"] == "review approved: first"
    assert await finance.dead_letters(order_id) == []


async def test_approving_a_declined_payment_is_dead_lettered(finance: Finance) -> None:
    order_id = await held(finance)
    await finance.publish(review(order_id, approve=False))
    await finance.publish(review(order_id, approve=True))

    (letter,) = await finance.dead_letters(order_id)
    assert f"the review of order {order_id} cannot be approved: its payment is declined" in letter
    assert (await finance.payment(order_id))["status"] == "declined"


async def test_rejecting_an_authorized_payment_is_dead_lettered(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(
        AuthorizePayment(order_id=order_id, amount=usd("40.00"), method="card", token="tok_visa")
    )
    await finance.publish(review(order_id, approve=False))

    (letter,) = await finance.dead_letters(order_id)
    assert "cannot be rejected: its payment is authorized" in letter
    assert (await finance.payment(order_id))["status"] == "authorized"


async def test_a_review_for_an_order_without_payment_is_dead_lettered(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(review(order_id, approve=True))

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
