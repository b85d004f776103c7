"""Service tests: what finance paid on a return's refunds (`payment.refunded`), on a real
(SQLite) database, with the other services' events fed through FastStream's in-memory broker or
applied as one consumer batch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from keel_contracts import Message
from keel_kit.testing import running, selects, statements_run
from returns_harness import Stack as ReturnsStack
from returns_harness import paid, returns_app, usd

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

PAID_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Stack(ReturnsStack):
    """The returns service's test stack, with the doors these tests go through."""

    async def refund(self, return_id: str) -> dict[str, Any]:
        [refund] = (await self.view(return_id))["refunds"]
        return dict(refund)

    async def apply_batch(self, *messages: Message) -> int:
        """Apply the messages as one consumer batch, all paid at PAID_AT; return how many took
        effect."""
        return await self.apply_at(*((m, PAID_AT) for m in messages))


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running(returns_app(tmp_path), Stack) as stack:
        yield stack


def moment(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


async def test_a_refund_paid_in_full_closes_the_return_and_shows_each_step(stack: Stack) -> None:
    return_id = await stack.returned("o-1", "MUG-1", "20.00")
    refund = await stack.refund(return_id)
    assert (refund["status"], refund["refunded"], refund["shortfall"]) == ("requested", None, None)

    await stack.publish(paid(refund, "20.00"), at=PAID_AT)

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


# What a refund of one unit graded B shows (a 10% restocking fee, half-up to the journal's
# places), finance paying a little less than requested.
SHOWN = {
    "JPY": {"price": "450", "fee": "45", "amount": "405", "paid": "400", "short": "5", "zero": "0"},
    "KWD": {
        "price": "12.500",
        "fee": "1.250",
        "amount": "11.250",
        "paid": "11.000",
        "short": "0.250",
        "zero": "0.000",
    },
}


@pytest.mark.parametrize("currency", list(SHOWN))
async def test_a_refund_s_amounts_are_shown_with_its_currency_s_places(
    stack: Stack, currency: str
) -> None:
    shown = SHOWN[currency]
    return_id = await stack.returned(f"o-{currency}", "MUG-1", shown["price"], "B", currency)
    refund = await stack.refund(return_id)

    await stack.publish(paid(refund, shown["paid"], currency), at=PAID_AT)

    [refund] = (await stack.view(return_id))["refunds"]
    [line] = refund["lines"]
    summary = (await stack.get_json("/v1/returns/summary"))["refunds"]

    def money(what: str) -> dict[str, str]:
        return {"amount": shown[what], "currency": currency}

    priced = (money("price"), money("fee"), money("amount"))
    assert (refund["goods"], refund["restocking_fee"], refund["amount"]) == priced
    assert (line["unit_price"], line["restocking_fee"], line["amount"]) == priced
    assert refund["shipping"] == money("zero")
    assert (refund["refunded"], refund["shortfall"]) == (money("paid"), money("short"))
    assert (summary["refunded"], summary["shortfall"]) == ([money("paid")], [money("short")])


async def test_a_short_refund_records_the_shortfall(stack: Stack) -> None:
    return_id = await stack.returned("o-2", "MUG-1", "58.00")
    refund = await stack.refund(return_id)

    await stack.publish(paid(refund, "40.00"), at=PAID_AT)

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
    first = await stack.publish(paid(refund, "15.00"), at=PAID_AT)
    before = await stack.view(return_id)

    await stack.redeliver(first)  # the same event again (the inbox drops it)
    # finance announces the refund again under a new event id, later
    await stack.publish(paid(refund, "15.00"), at=PAID_AT + timedelta(hours=1))

    assert await stack.view(return_id) == before
    assert moment(before["refunded_at"]) == PAID_AT
    assert before["refunds"][0]["shortfall"] == usd("5.00")
    assert await stack.dead_letters() == []


async def test_a_payment_of_an_unknown_refund_is_dead_lettered(stack: Stack) -> None:
    return_id = await stack.returned("o-4", "MUG-1", "20.00")
    refund = await stack.refund(return_id)

    await stack.publish(paid({**refund, "refund_id": "nope"}, "20.00"))

    assert await stack.dead_letters() == [
        f"PermanentError: payment.refunded for unknown refund nope (return {return_id}, order o-4)"
    ]
    view = await stack.view(return_id)
    assert (view["status"], view["refunds"][0]["status"]) == ("refund_requested", "requested")


async def test_a_payment_naming_another_return_is_dead_lettered(stack: Stack) -> None:
    return_id = await stack.returned("o-5", "MUG-1", "20.00")
    refund = await stack.refund(return_id)

    await stack.publish(paid({**refund, "return_id": "r-other"}, "20.00"))

    assert await stack.dead_letters() == [
        f"PermanentError: payment.refunded names refund {refund['refund_id']} of return "
        f"r-other, order o-5; it is of return {return_id}, order o-5"
    ]
    assert (await stack.view(return_id))["status"] == "refund_requested"


async def test_a_payment_above_the_request_is_dead_lettered(stack: Stack) -> None:
    return_id = await stack.returned("o-6", "MUG-1", "20.00")
    refund = await stack.refund(return_id)

    await stack.publish(paid(refund, "25.00"))

    assert await stack.dead_letters() == [
        f"PermanentError: refund {refund['refund_id']} paid 25.00 USD: not between 0 and the "
        "20.00 requested"
    ]
    assert (await stack.refund(return_id))["status"] == "requested"


async def test_a_payment_in_another_currency_is_dead_lettered(stack: Stack) -> None:
    return_id = await stack.returned("o-7", "MUG-1", "20.00")
    refund = await stack.refund(return_id)

    await stack.publish(paid(refund, "20.00", currency="EUR"))

    assert await stack.dead_letters() == [
        f"PermanentError: refund {refund['refund_id']} was requested in USD, paid in EUR"
    ]
    assert (await stack.refund(return_id))["refunded"] is None


async def test_a_payment_of_a_refund_waiting_for_approval_is_dead_lettered(stack: Stack) -> None:
    return_id = await stack.returned("o-8", "TV-1", "800.00")
    refund = await stack.refund(return_id)
    assert refund["status"] == "pending_approval"

    await stack.publish(paid(refund, "800.00"))

    assert await stack.dead_letters() == [
        f"PermanentError: refund {refund['refund_id']} is waiting for approval: finance was "
        "never asked to pay it"
    ]
    assert (await stack.view(return_id))["status"] == "refund_pending_approval"


async def test_an_approved_refund_once_paid_closes_the_return(stack: Stack) -> None:
    return_id = await stack.returned("o-9", "TV-1", "800.00")
    refund = await stack.refund(return_id)
    assert (await stack.approve(refund["refund_id"])).status_code == 200

    await stack.publish(paid(refund, "800.00"), at=PAID_AT)

    view = await stack.view(return_id)
    assert (view["status"], view["refunds"][0]["refunded"]) == ("refunded", usd("800.00"))
    again = await stack.approve(refund["refund_id"])
    assert again.status_code == 409


async def test_payments_in_one_batch_are_read_in_a_fixed_number_of_queries(stack: Stack) -> None:
    refunds = [
        await stack.refund(await stack.returned(f"o-b{n}", "MUG-1", "20.00")) for n in range(3)
    ]

    with statements_run(stack.db) as statements:
        applied = await stack.apply_batch(
            paid(refunds[0], "20.00"),
            paid(refunds[1], "12.50"),
            paid(refunds[2], "20.00"),
            paid(refunds[0], "20.00"),  # finance's re-announcement within the batch
        )

    assert applied == 4
    # The orders with their items and shipments, the returns and their refunds (the inbox
    # claims its events with an insert, no select).
    assert len(selects(statements)) == 5
    views = [await stack.view(r["return_id"]) for r in refunds]
    assert [v["status"] for v in views] == ["refunded", "refunded", "refunded"]
    assert [v["refunds"][0]["shortfall"] for v in views] == [
        usd("0.00"),
        usd("7.50"),
        usd("0.00"),
    ]


async def test_an_unknown_refund_in_a_batch_leaves_the_others_settled(stack: Stack) -> None:
    refund = await stack.refund(await stack.returned("o-c", "MUG-1", "20.00"))

    applied = await stack.apply_batch(
        paid({**refund, "refund_id": "ghost"}, "20.00"), paid(refund, "20.00")
    )

    assert applied == 1
    assert (await stack.view(refund["return_id"]))["status"] == "refunded"
    [letter] = await stack.dead_letters()
    assert letter.startswith("PermanentError: payment.refunded for unknown refund ghost")
