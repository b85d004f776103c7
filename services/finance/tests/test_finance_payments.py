"""Service tests of payments: finance's real subscriber and database, fed through FastStream's
in-memory broker. Answers are read from the outbox, since no relay runs here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from finance_harness import Finance, new_order, usd
from keel_contracts.commands import (
    AuthorizePayment,
    AuthorizeSealedPayment,
    CapturePayment,
    VoidPayment,
)
from keel_contracts.events import OrderPlaced, StockIssued
from keel_contracts.values import Line, Money
from keel_finance.payments.simulated import authorization_id_for
from keel_kit import sealing

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def authorize(order_id: str, token: str = "tok_visa", amount: str = "40.00") -> AuthorizePayment:
    return AuthorizePayment(order_id=order_id, amount=usd(amount), method="card", token=token)


def authorized(order_id: str, amount: str = "40.00") -> tuple[str, dict[str, Any]]:
    return (
        "payment.authorized",
        {
            "order_id": order_id,
            "authorization_id": authorization_id_for(order_id),
            "amount": {"amount": amount, "currency": "USD"},
        },
    )


# --- authorize ---


async def test_approved_card_is_announced_recorded_and_posts_nothing(finance: Finance) -> None:
    order_id = new_order()
    command = await finance.publish(authorize(order_id))

    assert await finance.answers(order_id) == [authorized(order_id)]
    (answer,) = await finance.staged("finance.payment.v1", order_id)
    assert (answer.correlation_id, answer.causation_id) == (order_id, str(command.event_id))
    payment = await finance.payment(order_id)
    assert payment["status"] == "authorized"
    assert payment["authorization_id"] == authorization_id_for(order_id)
    assert (payment["amount"], payment["currency"], payment["captured_amount"]) == (
        "40.00",
        "USD",
        "0.00",
    )
    assert await finance.journal(order_id) == []


async def test_a_sealed_card_token_is_opened_and_authorized(finance: Finance) -> None:
    order_id = new_order()
    folder = finance.runtime.settings.auth_folder
    sealed = sealing.seal(folder, "finance", "tok_visa")

    await finance.publish(
        AuthorizeSealedPayment(
            order_id=order_id, amount=usd("40.00"), method="card", sealed_token=sealed
        )
    )

    assert await finance.answers(order_id) == [authorized(order_id)]


async def test_a_token_sealed_for_another_key_is_dead_lettered(
    finance: Finance, tmp_path: Path
) -> None:
    order_id = new_order()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    sealing.make_keys(elsewhere, "finance")  # finance's keys before a rotation, say

    await finance.publish(
        AuthorizeSealedPayment(
            order_id=order_id,
            amount=usd("40.00"),
            method="card",
            sealed_token=sealing.seal(elsewhere, "finance", "tok_visa"),
        )
    )

    [letter] = await finance.dead_letters(order_id)
    assert "finance's key cannot open" in letter
    assert await finance.answers(order_id) == []


async def test_declined_card_is_announced_with_its_reason(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id, "tok_declined"))

    assert await finance.answers(order_id) == [
        ("payment.declined", {"order_id": order_id, "reason": "card declined"})
    ]
    payment = await finance.payment(order_id)
    assert (payment["status"], payment["authorization_id"]) == ("declined", None)


async def test_review_token_holds_the_payment(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id, "tok_review"))

    ((kind, payload),) = await finance.answers(order_id)
    assert kind == "payment.held"
    assert "review" in payload["reason"]
    assert (await finance.payment(order_id))["status"] == "held"


async def test_unknown_token_is_declined_with_a_clear_reason(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id, "tok_stolen"))

    ((kind, payload),) = await finance.answers(order_id)
    assert kind == "payment.declined"
    assert "not recognised" in payload["reason"]


async def test_an_amount_below_a_cent_is_declined_without_asking_the_provider(
    finance: Finance,
) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id, amount="0.00"))

    ((kind, payload),) = await finance.answers(order_id)
    assert kind == "payment.declined"
    assert "at least 0.01 USD" in payload["reason"]
    assert finance.provider.authorizations == 0


async def test_repeated_authorization_reannounces_the_decision_without_asking_again(
    finance: Finance,
) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id))
    # A new command (new event id) for the same order, as a saga retry sends: even with another
    # token, the recorded decision is the answer.
    await finance.publish(authorize(order_id, "tok_declined"))

    assert await finance.answers(order_id) == [authorized(order_id), authorized(order_id)]
    assert finance.provider.authorizations == 1


async def test_repeated_authorization_after_a_void_says_it_is_voided(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id))
    await finance.publish(VoidPayment(order_id=order_id, reason="order cancelled"))
    await finance.publish(authorize(order_id))

    assert [kind for kind, _ in await finance.answers(order_id)] == [
        "payment.authorized",
        "payment.voided",
        "payment.voided",
    ]


# --- capture ---


async def test_capture_posts_cash_against_receivable(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id))
    await finance.publish(CapturePayment(order_id=order_id, amount=usd("30")))

    assert (await finance.answers(order_id))[1] == (
        "payment.captured",
        {
            "order_id": order_id,
            "authorization_id": authorization_id_for(order_id),
            "amount": {"amount": "30.00", "currency": "USD"},
        },
    )
    assert await finance.journal(order_id) == [
        [("1000", "30.00", "0.00"), ("1100", "0.00", "30.00")]
    ]
    assert len(await finance.staged("finance.journal.v1", order_id)) == 1
    payment = await finance.payment(order_id)
    assert (payment["status"], payment["captured_amount"]) == ("captured", "30.00")
    books = await finance.books("USD")
    assert books is not None
    assert (books["balanced"], books["debits"]) == (True, "30.00")


async def test_the_same_capture_twice_captures_once(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id))
    for _ in range(2):
        await finance.publish(CapturePayment(order_id=order_id, amount=usd("40.00")))

    kinds = [kind for kind, _ in await finance.answers(order_id)]
    assert kinds == ["payment.authorized", "payment.captured", "payment.captured"]
    assert len(await finance.journal(order_id)) == 1
    books = await finance.books("USD")
    assert books is not None
    assert books["debits"] == "40.00"
    assert await finance.dead_letters(order_id) == []


@pytest.mark.parametrize(
    ("capture", "error"),
    [
        (usd("40.01"), "exceeds the authorized 40.00 USD"),
        (Money(amount=Decimal("10"), currency="EUR"), "capture in EUR of a payment authorized"),
    ],
)
async def test_capture_that_can_never_succeed_is_dead_lettered(
    finance: Finance, capture: Money, error: str
) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id))
    await finance.publish(CapturePayment(order_id=order_id, amount=capture))

    (letter,) = await finance.dead_letters(order_id)
    assert letter.startswith("PermanentError: cannot capture order")
    assert error in letter
    assert await finance.answers(order_id) == [authorized(order_id)]
    assert (await finance.payment(order_id))["status"] == "authorized"
    assert await finance.journal(order_id) == []


@pytest.mark.parametrize("token", ["tok_declined", "tok_review"])
async def test_capture_of_an_unauthorized_payment_is_dead_lettered(
    finance: Finance, token: str
) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id, token))
    await finance.publish(CapturePayment(order_id=order_id, amount=usd("1.00")))

    (letter,) = await finance.dead_letters(order_id)
    assert "cannot be captured, only an authorized one" in letter
    assert await finance.journal(order_id) == []


async def test_capture_for_an_order_never_authorized_is_dead_lettered(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(CapturePayment(order_id=order_id, amount=usd("1.00")))

    assert await finance.dead_letters(order_id) == [
        f"PermanentError: order {order_id} has no payment to capture"
    ]


# --- void ---


async def test_void_releases_the_authorization(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id))
    await finance.publish(VoidPayment(order_id=order_id, reason="order cancelled"))

    assert (await finance.answers(order_id))[1] == (
        "payment.voided",
        {"order_id": order_id, "authorization_id": authorization_id_for(order_id)},
    )
    payment = await finance.payment(order_id)
    assert (payment["status"], payment["reason"]) == ("voided", "order cancelled")
    await finance.publish(CapturePayment(order_id=order_id, amount=usd("1.00")))
    (letter,) = await finance.dead_letters(order_id)
    assert "a voided payment cannot be captured" in letter


async def test_void_of_a_payment_held_for_review_releases_it(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id, "tok_review"))
    await finance.publish(VoidPayment(order_id=order_id, reason="order cancelled"))

    assert [kind for kind, _ in await finance.answers(order_id)] == [
        "payment.held",
        "payment.voided",
    ]


async def test_void_with_nothing_held_emits_nothing_and_does_not_fail(finance: Finance) -> None:
    unknown, declined, voided = new_order(), new_order(), new_order()
    await finance.publish(authorize(declined, "tok_declined"))
    await finance.publish(authorize(voided))
    for order_id in (unknown, declined, voided, voided):
        await finance.publish(VoidPayment(order_id=order_id, reason="order cancelled"))

    assert await finance.answers(unknown) == []
    assert [kind for kind, _ in await finance.answers(declined)] == ["payment.declined"]
    assert [kind for kind, _ in await finance.answers(voided)] == [
        "payment.authorized",
        "payment.voided",
    ]
    for order_id in (unknown, declined, voided):
        assert await finance.dead_letters(order_id) == []


async def test_void_of_a_captured_payment_is_dead_lettered(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id))
    await finance.publish(CapturePayment(order_id=order_id, amount=usd("40.00")))
    await finance.publish(VoidPayment(order_id=order_id, reason="order cancelled"))

    (letter,) = await finance.dead_letters(order_id)
    assert "captured and must be refunded" in letter
    assert (await finance.payment(order_id))["status"] == "captured"


async def test_an_unknown_payment_is_not_found(finance: Finance) -> None:
    response = await finance.client.get(f"/v1/payments/{new_order()}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


# --- the sale, its cost, and margins by channel ---


async def test_capture_of_a_shipped_order_books_the_sale_and_settles_the_receivable(
    finance: Finance,
) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id, amount="45.00"))
    await finance.publish(
        CapturePayment(
            order_id=order_id, amount=usd("45.00"), goods=usd("40.00"), shipping=usd("5.00")
        )
    )

    assert await finance.journal(order_id) == [
        [("1100", "45.00", "0.00"), ("4000", "0.00", "40.00"), ("4100", "0.00", "5.00")],
        [("1000", "45.00", "0.00"), ("1100", "0.00", "45.00")],
    ]
    assert await finance.account("1100") == "0.00"  # from a trial balance that balances


async def test_margins_per_channel_come_from_sales_and_issued_stock(finance: Finance) -> None:
    order_id = new_order()
    placed = OrderPlaced(
        order_id=order_id,
        channel="marketplace-a",
        customer_id="c",
        lines=(Line(sku="MUG-1", quantity=2),),
        total=usd("45.00"),
    )
    issued = StockIssued(
        order_id=order_id,
        shipment_id="s-1",
        location_id="WH-1",
        sku="MUG-1",
        quantity=2,
        unit_cost=usd("6.00"),
        movement_id=str(uuid.uuid4()),
    )
    for message in (placed, issued):
        await finance.publish(message)
    await finance.publish(authorize(order_id, amount="45.00"))
    await finance.publish(
        CapturePayment(
            order_id=order_id, amount=usd("45.00"), goods=usd("40.00"), shipping=usd("5.00")
        )
    )

    margins = (await finance.client.get("/v1/margins")).json()["channels"]
    assert margins == [
        {
            "channel": "marketplace-a",
            "currency": "USD",
            "revenue": "45.00",
            "cost_of_goods": "12.00",
            "margin": "33.00",
            "margin_percent": "73.33",
        }
    ]
    assert ("5000", "12.00", "0.00") in [
        line for e in await finance.journal(order_id) for line in e
    ]
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    since_later = await finance.client.get("/v1/margins", params={"since": later})
    assert since_later.json()["channels"] == []  # nothing posted after that moment
    # The same margin over time, for leadership's chart: this hour's bucket.
    report = (await finance.client.get("/v1/kpis", params={"bucket": "hour"})).json()
    (series,) = report["series"]
    assert (series["name"], series["unit"]) == ("margin_percent:marketplace-a:USD", "percent")
    assert series["points"][-1]["value"] == "73.3"
    assert series["points"][0]["value"] is None  # nothing posted 48 hours ago
