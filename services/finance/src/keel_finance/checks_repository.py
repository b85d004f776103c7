"""The queries behind finance's invariants (`checks.py`): whole-table diagnostics."""

from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_finance.models import JournalEntry, JournalLine, Payment, Refund

SALE = "sale"


def _to_the_cent(amount: Any) -> Any:
    """Compared in cents: SQLite sums Numeric columns as floating point, so two equal totals
    can differ in their last binary digits (PostgreSQL's numeric is exact either way)."""
    return func.round(amount, 2)


async def unbalanced_entries(session: AsyncSession) -> list[tuple[str, Decimal, Decimal]]:
    debits, credits = func.sum(JournalLine.debit), func.sum(JournalLine.credit)
    rows = await session.exec(
        select(JournalLine.entry_id, debits, credits)
        .group_by(col(JournalLine.entry_id))
        .having(_to_the_cent(debits - credits) != 0)
        .order_by(col(JournalLine.entry_id))
    )
    return [(entry_id, Decimal(d), Decimal(c)) for entry_id, d, c in rows.all()]


async def captured_without_sale(session: AsyncSession) -> list[str]:
    sales = select(JournalEntry.source_id).where(JournalEntry.source_type == SALE)
    rows = await session.exec(
        select(Payment.order_id)
        .where(col(Payment.captured_amount) > 0, col(Payment.order_id).not_in(sales))
        .order_by(col(Payment.order_id))
    )
    return list(rows.all())


async def over_refunded(session: AsyncSession) -> list[tuple[str, Decimal, Decimal]]:
    """Orders whose refunds (paid, summed) exceed what was captured."""
    refunded = (
        core_select(col(Refund.order_id), func.sum(Refund.amount).label("refunded"))
        .group_by(col(Refund.order_id))
        .subquery()
    )
    rows = await (await session.connection()).execute(
        core_select(col(Payment.order_id), refunded.c.refunded, col(Payment.captured_amount))
        .join(refunded, refunded.c.order_id == col(Payment.order_id))
        .where(_to_the_cent(refunded.c.refunded - col(Payment.captured_amount)) > 0)
    )
    return [(order_id, Decimal(r), Decimal(c)) for order_id, r, c in rows.all()]


async def posted_sales(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> list[tuple[str, str, Decimal]]:
    """(order id, currency, amount owed) of each posted sale, in order id order after `cursor`:
    a page of `limit`, and one more if there are more."""
    owed = _to_the_cent(func.sum(JournalLine.debit))
    query = (
        select(JournalEntry.source_id, JournalEntry.currency, owed)
        .join(JournalLine, col(JournalLine.entry_id) == col(JournalEntry.entry_id))
        .where(JournalEntry.source_type == SALE)
        .group_by(col(JournalEntry.source_id), col(JournalEntry.currency))
    )
    if cursor is not None:
        query = query.where(col(JournalEntry.source_id) > cursor)
    rows = await session.exec(query.order_by(col(JournalEntry.source_id)).limit(limit + 1))
    return [(oid, currency, Decimal(str(amount))) for oid, currency, amount in rows.all()]
