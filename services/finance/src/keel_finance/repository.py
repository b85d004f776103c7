"""Every finance query lives here."""

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import case, func, inspect, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_finance.domain import COST_OF_GOODS_SOLD, SALES_REVENUE, SHIPPING_INCOME
from keel_finance.models import JournalEntry, JournalLine, OrderChannel, Payment

REVENUE_ACCOUNTS = (SALES_REVENUE, SHIPPING_INCOME)


async def entries_for_source(
    session: AsyncSession, source_id: str
) -> Sequence[tuple[JournalEntry, Sequence[JournalLine]]]:
    entries = (
        await session.exec(
            select(JournalEntry)
            .where(
                or_(
                    col(JournalEntry.source_id) == source_id,
                    col(JournalEntry.order_id) == source_id,
                )
            )
            .order_by(col(JournalEntry.posted_at))
        )
    ).all()
    result = []
    for entry in entries:
        lines = (
            await session.exec(
                select(JournalLine)
                .where(JournalLine.entry_id == entry.entry_id)
                .order_by(col(JournalLine.id))
            )
        ).all()
        result.append((entry, lines))
    return result


async def margins_by_channel(session: AsyncSession) -> list[tuple[str, Decimal, Decimal]]:
    """(channel, revenue, cost of goods sold) from the journal, for orders of known channel."""
    revenue = case(
        (col(JournalLine.account).in_(REVENUE_ACCOUNTS), JournalLine.credit - JournalLine.debit),
        else_=0,
    )
    cost = case(
        (col(JournalLine.account) == COST_OF_GOODS_SOLD, JournalLine.debit - JournalLine.credit),
        else_=0,
    )
    query = (
        select(OrderChannel.channel, func.sum(revenue), func.sum(cost))
        .join(JournalEntry, col(JournalEntry.order_id) == OrderChannel.order_id)
        .join(JournalLine, col(JournalLine.entry_id) == JournalEntry.entry_id)
        .group_by(col(OrderChannel.channel))
        .order_by(col(OrderChannel.channel))
    )
    rows = (await session.exec(query)).all()
    return [(channel, Decimal(r or 0), Decimal(c or 0)) for channel, r, c in rows]


async def totals_by_account(session: AsyncSession) -> dict[str, tuple[Decimal, Decimal]]:
    rows = await session.exec(
        select(
            JournalLine.account, func.sum(JournalLine.debit), func.sum(JournalLine.credit)
        ).group_by(col(JournalLine.account))
    )
    return {account: (Decimal(d or 0), Decimal(c or 0)) for account, d, c in rows.all()}


# Payments added in this session's transaction, by order id (see get_payment).
_NEW_PAYMENTS = "keel_finance.new_payments"


async def get_payment(session: AsyncSession, order_id: str) -> Payment | None:
    """The order's payment, looked up without flushing the transaction first.

    The kit calls a handler per message inside one transaction per batch; letting each lookup
    autoflush would turn the batch's bulk inserts into round trips per message. A payment added
    earlier in this transaction and not flushed yet is not in the database, so it is found in the
    session's own index of new payments (unless a savepoint rollback has discarded it).
    """
    new: Payment | None = session.info.get(_NEW_PAYMENTS, {}).get(order_id)
    if new is not None and inspect(new).pending:
        return new
    with session.no_autoflush:
        return await session.get(Payment, order_id)


def add_payment(session: AsyncSession, payment: Payment) -> None:
    session.add(payment)
    session.info.setdefault(_NEW_PAYMENTS, {})[payment.order_id] = payment
