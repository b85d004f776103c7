"""Service tests: stock events and captures applied in the kit's batches, which lock their SKUs'
valuations in one query up front and write their journal entries as rows, end exactly where the
same messages applied one at a time end: the same valuations, entries and announcements. A
second, different event for one source is still refused by the journal, and only it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from finance_harness import Finance, finance_running, usd
from keel_contracts import Message
from keel_contracts.commands import AuthorizePayment, CapturePayment
from keel_contracts.events import StockAdjusted, StockIssued, StockReceived, StockReturned
from keel_kit import testing
from keel_kit.testing import selects, statements_run

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

SKUS = ("MUG-1", "PLATE-1", "BOWL-1", "CUP-1")
PAYMENT_FIELDS = {"status", "amount", "captured_amount", "refunded_amount", "currency"}


def receipt(movement_id: str, sku: str, quantity: int, unit_cost: str) -> StockReceived:
    return StockReceived(
        movement_id=movement_id,
        sku=sku,
        location_id="WH-1",
        quantity=quantity,
        unit_cost=usd(unit_cost),
        reference="PO-1",
    )


def issue(movement_id: str, order_id: str, sku: str, quantity: int) -> StockIssued:
    return StockIssued(
        order_id=order_id,
        shipment_id=f"S-{order_id}",
        location_id="WH-1",
        sku=sku,
        quantity=quantity,
        unit_cost=usd("9.99"),  # the item master's: used only for stock finance never valued
        movement_id=movement_id,
    )


async def stage_stock(finance: Finance) -> None:
    """MUG-1 received at two costs, and an order's payment authorized."""
    await finance.apply(receipt("R-0", "MUG-1", 10, "2.00"), receipt("R-00", "MUG-1", 30, "3.00"))
    order = AuthorizePayment(order_id="O-1", amount=usd("40.00"), method="card", token="tok_visa")
    await finance.apply(order)


async def outcome(finance: Finance) -> dict[str, Any]:
    """Valuations, every source's entries, the books, and what finance announced, less the
    ids that differ between runs."""
    valuations = {}
    for sku in SKUS:
        response = await finance.client.get(f"/v1/valuation/{sku}")
        valuations[sku] = (response.status_code, response.json())
    sources = ("O-1", "O-2", "O-3", "O-4", "R-1", "R-2", "R-3", "A-1", "T-1")
    payment = await finance.payment("O-1")
    posted = [
        {k: v for k, v in e.payload.items() if k != "entry_id"}
        for e in await finance.staged("finance.journal.v1")
    ]
    return {
        "valuations": valuations,
        "journal": {source: await finance.journal(source) for source in sources},
        "books": await finance.books(),
        "posted": posted,
        "payment": {k: v for k, v in payment.items() if k in PAYMENT_FIELDS},
        "dead_letters": [error.split("\n")[0][:80] for error in await finance.dead_letters()],
    }


async def batched_and_one_by_one(
    tmp_path: Path, messages: Sequence[Message]
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The outcome of `messages` applied as one batch, and applied one batch each; and whether
    the batch was redone message by message (the kit isolating a failure)."""
    return await testing.batched_and_one_by_one(
        lambda name: finance_running(tmp_path, name),
        messages,
        stage=stage_stock,
        outcome=outcome,
    )


async def test_a_batch_of_stock_events_ends_where_one_at_a_time_ends(tmp_path: Path) -> None:
    messages = (
        issue("I-1", "O-1", "MUG-1", 3),
        issue("I-2", "O-2", "MUG-1", 4),  # the same SKU again
        issue("I-3", "O-3", "CUP-1", 2),  # never received: costed at the event's cost
        receipt("R-3", "CUP-1", 5, "20.00"),  # into the valuation the issue before created
        receipt("R-1", "PLATE-1", 5, "1.00"),  # a valuation created in the batch
        issue("I-4", "O-4", "PLATE-1", 1),  # and moved again in it
        receipt("R-2", "BOWL-1", 2, "4.00"),
        StockAdjusted(
            adjustment_id="ADJ-1",
            movement_id="A-1",
            location_id="WH-1",
            sku="MUG-1",
            quantity=-2,
            reason_code="damage",
            unit_cost=usd("9.99"),
        ),
        StockReturned(
            return_id="RMA-1",
            order_id="O-1",
            location_id="WH-1",
            sku="MUG-1",
            quantity=1,
            state="sellable",
            disposition="restock",
            unit_cost=usd("9.99"),
            movement_id="T-1",
        ),
        CapturePayment(order_id="O-1", amount=usd("40.00"), goods=usd("35.00"), shipping=usd("5")),
    )

    batched, one_by_one, isolated = await batched_and_one_by_one(tmp_path, messages)

    assert not isolated  # every message took the batch's fast path
    assert batched == one_by_one
    assert batched["dead_letters"] == []
    assert batched["valuations"]["MUG-1"][1]["quantity"] == 40 - 3 - 4 - 2 + 1
    assert len(batched["journal"]["O-1"]) == 4  # cost of goods, return, sale, capture
    assert batched["books"]["balanced"] is True


async def test_a_second_event_for_one_source_is_dead_lettered_alone(tmp_path: Path) -> None:
    messages = (
        receipt("R-1", "PLATE-1", 5, "1.00"),
        issue("I-1", "O-1", "MUG-1", 3),
        receipt("R-1", "PLATE-1", 7, "2.00"),  # another event for receipt R-1: refused
        receipt("R-2", "BOWL-1", 2, "4.00"),
    )

    batched, one_by_one, isolated = await batched_and_one_by_one(tmp_path, messages)

    assert isolated  # the journal refused the batch as a whole: redone message by message
    assert batched == one_by_one
    (error,) = batched["dead_letters"]
    assert "IntegrityError" in error
    assert batched["journal"]["R-1"] == [[("1300", "5.00", "0.00"), ("3900", "0.00", "5.00")]]
    assert batched["valuations"]["PLATE-1"][1]["quantity"] == 5  # the refused one rolled back
    assert batched["valuations"]["BOWL-1"][1]["quantity"] == 2


async def test_a_batch_locks_its_valuations_in_one_query_and_writes_its_entries_in_two(
    tmp_path: Path,
) -> None:
    async with finance_running(tmp_path, "finance") as finance:
        await finance.apply(receipt("R-0", "MUG-1", 10, "2.00"), receipt("R-1", "BOWL-1", 9, "1"))
        messages = [
            issue(f"I-{n}", f"O-{n}", sku, 1) for n, sku in enumerate(["MUG-1", "BOWL-1"] * 3)
        ]

        with statements_run(finance.db) as statements:
            assert await finance.apply(*messages) == len(messages)

        assert [await finance.journal(f"O-{n}") for n in range(6)] == [
            [[("5000", cost, "0.00"), ("1300", "0.00", cost)]] for cost in ("2.00", "1.00") * 3
        ]

    def naming(table: str, statements: Sequence[str]) -> list[str]:
        return [s for s in statements if f" {table} " in " ".join(s.replace('"', "").split())]

    assert len(naming("stock_valuation", selects(statements))) == 1
    inserts = [s for s in statements if s.upper().startswith("INSERT")]
    assert len(naming("journal_entry", inserts)) == 1
    assert len(naming("journal_line", inserts)) == 1
