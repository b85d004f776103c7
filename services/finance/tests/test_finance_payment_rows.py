"""Service tests: payments decided in the kit's batches are written as rows, a batch's in one
insert, and a batch's captures read their payments in one query; yet a batch ends exactly where
the same commands applied one at a time end, down to each payment row, answer and journal entry,
also when a command in the batch captures, voids, reviews or repeats an authorization decided
earlier in the same batch, and when a failing command makes the kit redo it message by
message."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from finance_harness import Finance, finance_running, usd
from keel_contracts import Message
from keel_contracts.commands import (
    AuthorizePayment,
    AuthorizeSealedPayment,
    CapturePayment,
    ResolvePaymentReview,
    VoidPayment,
)
from keel_finance.payments.simulated import authorization_id_for
from keel_kit import sealing, testing
from keel_kit.signing import StackKeys
from keel_kit.testing import selects, statements_run

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

ORDERS = ("O-1", "O-2", "N-1", "N-2", "N-3", "N-4", "N-5", "N-6", "N-7", "N-8")


class Seals:
    """Card tokens sealed for the finance services started in `folder`: their keys are made
    up front, so the commands can be written before any service starts."""

    def __init__(self, folder: Path) -> None:
        self.keys = StackKeys.ensure(folder / "auth").folder

    def authorize(
        self, order_id: str, token: str = "tok_visa", amount: str = "40.00"
    ) -> AuthorizeSealedPayment:
        return AuthorizeSealedPayment(
            order_id=order_id,
            amount=usd(amount),
            method="card",
            sealed_token=sealing.seal(self.keys, "finance", token),
        )


def capture(order_id: str, *, shipped: bool = True) -> CapturePayment:
    if not shipped:
        return CapturePayment(order_id=order_id, amount=usd("40.00"))
    return CapturePayment(
        order_id=order_id, amount=usd("40.00"), goods=usd("35.00"), shipping=usd("5.00")
    )


async def stage_payments(finance: Finance) -> None:
    """O-1 and O-2 authorized in a batch before."""
    for order_id in ("O-1", "O-2"):
        command = AuthorizePayment(
            order_id=order_id, amount=usd("40.00"), method="card", token="tok_visa"
        )
        await finance.apply(command)


async def outcome(finance: Finance) -> dict[str, Any]:
    """Every order's payment row (less its timestamps), answers and journal; the books; and
    the dead letters' first words."""
    payments = {}
    for order_id in ORDERS:
        response = await finance.client.get(f"/v1/payments/{order_id}")
        body = response.json()
        if response.status_code == 200:
            assert body["created_at"] <= body["updated_at"]
            body = {k: v for k, v in body.items() if k not in ("created_at", "updated_at")}
        payments[order_id] = (response.status_code, body)
    return {
        "payments": payments,
        "answers": {order_id: await finance.answers(order_id) for order_id in ORDERS},
        "journal": {order_id: await finance.journal(order_id) for order_id in ORDERS},
        "books": await finance.books(),
        "dead_letters": [error.split("\n")[0][:80] for error in await finance.dead_letters()],
    }


async def batched_and_one_by_one(
    tmp_path: Path, messages: Sequence[Message]
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    return await testing.batched_and_one_by_one(
        lambda name: finance_running(tmp_path, name),
        messages,
        stage=stage_payments,
        outcome=outcome,
    )


async def test_a_batch_of_payment_commands_ends_where_one_at_a_time_ends(tmp_path: Path) -> None:
    seals = Seals(tmp_path)
    messages = (
        seals.authorize("N-1"),
        seals.authorize("N-2", token="tok_declined"),
        seals.authorize("N-3", token="tok_review"),
        seals.authorize("N-4", amount="0.001"),  # declined by finance, the provider never asked
        seals.authorize("N-5"),
        capture("N-5"),  # captures the authorization decided just before, in the batch
        seals.authorize("N-5"),  # a repeat: answered with where the payment stands now
        seals.authorize("N-6"),
        VoidPayment(order_id="N-6", reason="cancelled"),
        ResolvePaymentReview(order_id="N-3", approve=True),
        capture("O-1"),  # authorized in a batch before
        VoidPayment(order_id="O-2", reason="cancelled"),
        AuthorizePayment(order_id="N-7", amount=usd("40.00"), method="card", token="tok_visa"),
        seals.authorize("N-8"),
        capture("N-8", shipped=False),
    )

    batched, one_by_one, isolated = await batched_and_one_by_one(tmp_path, messages)

    assert not isolated  # every command took the batch's fast path
    assert batched == one_by_one
    assert batched["dead_letters"] == []
    assert batched["payments"]["N-1"] == (
        200,
        {
            "order_id": "N-1",
            "status": "authorized",
            "method": "card",
            "authorization_id": authorization_id_for("N-1"),
            "amount": "40.00",
            "currency": "USD",
            "captured_amount": "0.00",
            "refunded_amount": "0.00",
            "reason": "",
        },
    )
    statuses = {order_id: body["status"] for order_id, (_, body) in batched["payments"].items()}
    assert statuses == {
        "O-1": "captured",
        "O-2": "voided",
        "N-1": "authorized",
        "N-2": "declined",
        "N-3": "authorized",
        "N-4": "declined",
        "N-5": "captured",
        "N-6": "voided",
        "N-7": "authorized",
        "N-8": "captured",
    }
    assert [answer for answer, _ in batched["answers"]["N-5"]] == [
        "payment.authorized",
        "payment.captured",
        "payment.captured",
    ]
    assert len(batched["journal"]["N-5"]) == 2  # the sale and the capture
    assert batched["books"]["balanced"] is True


async def test_a_batch_redone_around_a_failed_command_ends_where_one_at_a_time_ends(
    tmp_path: Path,
) -> None:
    seals = Seals(tmp_path)
    messages = (
        seals.authorize("N-1"),
        capture("N-1"),
        capture("N-2"),  # no payment to capture: dead-lettered, and the batch redone
        seals.authorize("N-2"),
        seals.authorize("N-3"),
        capture("N-3"),
        seals.authorize("N-1"),
    )

    batched, one_by_one, isolated = await batched_and_one_by_one(tmp_path, messages)

    assert isolated
    assert batched == one_by_one
    (error,) = batched["dead_letters"]
    assert "no payment to capture" in error
    assert batched["payments"]["N-2"][1]["status"] == "authorized"
    assert batched["payments"]["N-3"][1]["status"] == "captured"


async def test_a_batch_writes_its_payments_in_one_insert_and_reads_them_in_one_query(
    tmp_path: Path,
) -> None:
    seals = Seals(tmp_path)
    orders = [f"N-{n}" for n in range(6)]
    async with finance_running(tmp_path, "finance") as finance:
        with statements_run(finance.db) as authorizing:
            assert await finance.apply(*(seals.authorize(order) for order in orders)) == 6
        with statements_run(finance.db) as capturing:
            assert await finance.apply(*(capture(order) for order in orders)) == 6

        for order in orders:
            assert [answer for answer, _ in await finance.answers(order)] == [
                "payment.authorized",
                "payment.captured",
            ]
            assert len(await finance.journal(order)) == 2

    def naming(statements: Sequence[str]) -> list[str]:
        return [s for s in statements if " payment " in " ".join(s.replace('"', "").split())]

    def inserts(statements: Sequence[str]) -> list[str]:
        return [s for s in statements if s.upper().startswith("INSERT")]

    assert len(naming(selects(authorizing))) == 1  # which of them have a payment already
    assert len(naming(inserts(authorizing))) == 1
    assert len(naming(selects(capturing))) == 1
    assert naming(inserts(capturing)) == []
