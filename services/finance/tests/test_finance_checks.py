"""`GET /v1/checks`: finance's invariants hold for real postings and name each kind of break."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_finance_payments import authorize

from finance_harness import Finance, new_order, usd
from keel_contracts.commands import CapturePayment
from keel_finance.models import JournalEntry, JournalLine, Refund, StockValuation
from keel_kit.testing import check_findings

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def findings(finance: Finance) -> dict[str, list[str]]:
    return check_findings((await finance.client.get("/v1/checks")).json())


def shipped_capture(order_id: str) -> CapturePayment:
    return CapturePayment(
        order_id=order_id, amount=usd("40.00"), goods=usd("35.00"), shipping=usd("5.00")
    )


async def test_a_shipped_orders_capture_and_sale_keep_every_invariant(finance: Finance) -> None:
    order_id = new_order()
    await finance.publish(authorize(order_id))
    await finance.publish(shipped_capture(order_id))

    assert await findings(finance) == {}


async def test_each_kind_of_break_is_named(finance: Finance) -> None:
    captured_only, shipped = new_order(), new_order()
    for order_id in (captured_only, shipped):
        await finance.publish(authorize(order_id))
    await finance.publish(CapturePayment(order_id=captured_only, amount=usd("40.00")))
    await finance.publish(shipped_capture(shipped))
    async with finance.db.transaction() as session:
        # Bypass the use cases to build the states the checks must catch.
        session.add(
            JournalEntry(
                entry_id="E-X", source_type="manual", source_id="x", currency="USD", memo="lopsided"
            )
        )
        await session.flush()
        session.add(
            JournalLine(entry_id="E-X", account="1000", debit=Decimal(5), credit=Decimal(0))
        )
        session.add(
            Refund(
                refund_id="R-1",
                order_id=shipped,
                return_id="RMA-1",
                currency="USD",
                requested_amount=Decimal(50),
                amount=Decimal(50),
            )
        )
        session.add(StockValuation(sku="MUG", currency="USD", quantity=2, value=Decimal("7.00")))

    found = await findings(finance)

    assert found == {
        "every journal entry balances": ["entry E-X debits 5.00 and credits 0.00"],
        "the trial balance is zero": ["USD debits 125.00 against credits 120.00"],
        "each captured order's sale is posted once": [
            f"order {captured_only} was captured but its sale is not posted"
        ],
        "no order is refunded more than was captured": [
            f"order {shipped} refunded 50.0000 of 40.0000 captured"
        ],
        "the inventory account equals the sum of the stock valuations": [
            "the inventory account holds 0.00, the valuations sum to 7.00"
        ],
    }
    assert (await finance.client.get("/v1/checks")).json()["ok"] is False


async def test_an_entry_whose_cents_add_up_balances_on_sqlite_too(finance: Finance) -> None:
    # SQLite sums Numeric columns as floats: 0.10 + 0.20 comes back as 0.30000000000000004.
    async with finance.db.transaction() as session:
        session.add(
            JournalEntry(
                entry_id="E-C", source_type="manual", source_id="c", currency="USD", memo="cents"
            )
        )
        await session.flush()
        for debit, credit in (("0.10", "0"), ("0.20", "0"), ("0", "0.30")):
            session.add(
                JournalLine(
                    entry_id="E-C", account="1000", debit=Decimal(debit), credit=Decimal(credit)
                )
            )

    assert await findings(finance) == {}
