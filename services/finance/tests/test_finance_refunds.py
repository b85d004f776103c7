"""Service tests of refunds: returns' refund.requested is refunded through the provider, capped at
what was captured, once per refund id, answered with payment.refunded and posted to the journal.
A request with nothing captured to refund is dead-lettered with the reason."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from finance_harness import Finance, new_order, usd
from keel_contracts import Envelope
from keel_contracts.commands import AuthorizePayment, CapturePayment
from keel_contracts.events import RefundLine, RefundRequested
from keel_finance.payments.simulated import authorization_id_for
from keel_kit import audit

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def refund_request(order_id: str, amount: str, *, return_id: str = "RMA-1") -> RefundRequested:
    return RefundRequested(
        refund_id=f"RF-{uuid.uuid4().hex[:10]}",
        return_id=return_id,
        order_id=order_id,
        amount=usd(amount),
        goods=usd(amount),
        restocking_fee=usd("0.00"),
        shipping=usd("0.00"),
        lines=(
            RefundLine(
                sku="MUG-1",
                quantity=1,
                grade="A",
                unit_price=usd(amount),
                restocking_fee=usd("0.00"),
                amount=usd(amount),
            ),
        ),
    )


async def request(finance: Finance, event: RefundRequested) -> Envelope:
    """Publish as the returns service does: on its topic, keyed by return id, under a new event
    id every time (so a repeat is a redelivery the inbox cannot recognise)."""
    return await finance.publish(event)


async def captured(finance: Finance, amount: str = "45.00") -> str:
    order_id = new_order()
    await finance.publish(
        AuthorizePayment(order_id=order_id, amount=usd(amount), method="card", token="tok_visa")
    )
    await finance.publish(CapturePayment(order_id=order_id, amount=usd(amount)))
    return order_id


def refunded(event: RefundRequested, amount: str) -> tuple[str, dict[str, Any]]:
    return (
        "payment.refunded",
        {
            "order_id": event.order_id,
            "refund_id": event.refund_id,
            "return_id": event.return_id,
            "amount": {"amount": amount, "currency": "USD"},
        },
    )


async def refunds(finance: Finance, order_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [a for a in await finance.answers(order_id) if a[0] == "payment.refunded"]


async def trial_balance(finance: Finance) -> dict[str, Any]:
    """The dollars' trial balance (these refunds are all in dollars), balanced."""
    books = await finance.books("USD")
    assert books is not None
    return books


def balance_of(trial: dict[str, Any], account: str) -> str:
    return str(next(a["balance"] for a in trial["accounts"] if a["account"] == account))


async def test_refund_pays_back_announces_and_posts_sales_returns_against_cash(
    finance: Finance,
) -> None:
    order_id = await captured(finance)
    event = refund_request(order_id, "20.00")
    cause = await request(finance, event)

    assert await refunds(finance, order_id) == [refunded(event, "20.00")]
    (*_, answer) = await finance.staged("finance.payment.v1", order_id)
    assert answer.causation_id == str(cause.event_id)
    journal = await finance.journal(order_id)
    assert journal[-1] == [("4200", "20.00", "0.00"), ("1000", "0.00", "20.00")]
    trial = await trial_balance(finance)
    assert (trial["debits"], trial["credits"], trial["balanced"]) == ("65.00", "65.00", True)
    assert balance_of(trial, "1000") == "25.00"  # 45.00 captured less 20.00 refunded
    assert balance_of(trial, "4200") == "20.00"
    payment = await finance.payment(order_id)
    assert (payment["status"], payment["captured_amount"], payment["refunded_amount"]) == (
        "captured",
        "45.00",
        "20.00",
    )


async def test_refund_beyond_what_is_left_of_the_capture_is_capped(finance: Finance) -> None:
    order_id = await captured(finance)
    first = refund_request(order_id, "20.00")
    second = refund_request(order_id, "30.00", return_id="RMA-2")
    await request(finance, first)
    await request(finance, second)

    assert await refunds(finance, order_id) == [
        refunded(first, "20.00"),
        refunded(second, "25.00"),
    ]
    assert (await finance.journal(order_id))[-1] == [
        ("4200", "25.00", "0.00"),
        ("1000", "0.00", "25.00"),
    ]
    assert (await finance.payment(order_id))["refunded_amount"] == "45.00"
    trial = await trial_balance(finance)
    assert (trial["balanced"], balance_of(trial, "1000")) == (True, "0.00")
    grant = finance.provider._grants[authorization_id_for(order_id)]
    assert sum(m.amount for m in grant.refunds.values()) == Decimal("45.00")


async def test_redelivered_refund_request_refunds_once_and_reannounces(
    finance: Finance,
) -> None:
    order_id = await captured(finance)
    event = refund_request(order_id, "20.00")
    await request(finance, event)
    await request(finance, event)  # the same refund id under a new event id

    assert await refunds(finance, order_id) == [
        refunded(event, "20.00"),
        refunded(event, "20.00"),
    ]
    assert (await finance.payment(order_id))["refunded_amount"] == "20.00"
    refund_entries = [e for e in await finance.journal(order_id) if e[0][0] == "4200"]
    assert refund_entries == [[("4200", "20.00", "0.00"), ("1000", "0.00", "20.00")]]
    assert balance_of(await trial_balance(finance), "1000") == "25.00"
    assert await finance.metric("keel_refunds_paid_total", currency="USD") == 1
    assert await finance.metric("keel_refunds_paid_amount_total", currency="USD") == 20.0


async def test_refund_of_an_order_with_nothing_captured_is_dead_lettered(
    finance: Finance,
) -> None:
    order_id = new_order()
    await finance.publish(
        AuthorizePayment(order_id=order_id, amount=usd("45.00"), method="card", token="tok_visa")
    )
    event = refund_request(order_id, "20.00", return_id=f"RMA-{uuid.uuid4().hex[:8]}")
    await request(finance, event)

    (error,) = await finance.dead_letters(event.return_id)
    assert f"cannot refund {event.refund_id} of order {order_id}" in error
    assert "authorized payment has nothing captured to refund" in error
    assert await refunds(finance, order_id) == []
    assert (await finance.payment(order_id))["refunded_amount"] == "0.00"
    assert await finance.journal(order_id) == []


async def test_refund_of_an_order_without_a_payment_is_dead_lettered(finance: Finance) -> None:
    order_id = new_order()
    event = refund_request(order_id, "20.00", return_id=f"RMA-{uuid.uuid4().hex[:8]}")
    await request(finance, event)

    (error,) = await finance.dead_letters(event.return_id)
    assert error.endswith("the order has no payment")
    assert await finance.answers(order_id) == []


async def test_refund_after_a_full_refund_is_dead_lettered(finance: Finance) -> None:
    order_id = await captured(finance)
    await request(finance, refund_request(order_id, "45.00"))
    event = refund_request(order_id, "5.00", return_id=f"RMA-{uuid.uuid4().hex[:8]}")
    await request(finance, event)

    (error,) = await finance.dead_letters(event.return_id)
    assert "already refunded in full" in error
    assert len(await refunds(finance, order_id)) == 1


async def test_each_refund_paid_is_on_finances_audit_chain_under_the_service(
    finance: Finance,
) -> None:
    order_id = await captured(finance, "45.00")
    event = refund_request(order_id, "50.00")  # more than captured: capped
    await request(finance, event)
    await request(finance, event)  # a redelivery pays nothing and records nothing

    entries = (await finance.get_json("/v1/audit", object_id=event.refund_id))["items"]
    assert [(e["action"], e["actor"], e["role"]) for e in entries] == [
        ("refund.paid", "service:finance", "service")
    ]
    assert (entries[0]["after"]["requested"], entries[0]["after"]["paid"]) == ("50.00", "45.00")
    chain = await finance.get_json("/v1/audit/chain")
    assert audit.broken_link(chain["entries"], chain["head"]) is None
