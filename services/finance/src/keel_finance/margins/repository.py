"""The margins' queries: revenue and cost of goods sold from the journal, per sales channel."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func
from sqlalchemy import select as core_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_finance.domain import COST_OF_GOODS_SOLD, SALES_RETURNS, SALES_REVENUE, SHIPPING_INCOME
from keel_finance.models import JournalEntry, JournalLine, OrderChannel

# Sales returns is contra-revenue: its debits (refunds) reduce a channel's revenue.
REVENUE_ACCOUNTS = (SALES_REVENUE, SHIPPING_INCOME, SALES_RETURNS)


def _margins(*by: Any) -> Any:
    """Revenue and cost of goods sold per channel and currency (and `by`) from the journal, for
    the orders of known channel."""
    revenue = case(
        (col(JournalLine.account).in_(REVENUE_ACCOUNTS), JournalLine.credit - JournalLine.debit),
        else_=0,
    )
    cost = case(
        (col(JournalLine.account) == COST_OF_GOODS_SOLD, JournalLine.debit - JournalLine.credit),
        else_=0,
    )
    groups = (*by, col(OrderChannel.channel), col(JournalEntry.currency))
    return (
        core_select(*groups, func.sum(revenue), func.sum(cost))
        .join(JournalEntry, col(JournalEntry.order_id) == OrderChannel.order_id)
        .join(JournalLine, col(JournalLine.entry_id) == JournalEntry.entry_id)
        .group_by(*groups)
    )


async def margins_by_channel(
    session: AsyncSession, *, since: datetime | None = None
) -> list[tuple[str, str, Decimal, Decimal]]:
    """(channel, currency, revenue, cost of goods sold), of the entries posted since `since` if
    given."""
    query = _margins().order_by(col(OrderChannel.channel), col(JournalEntry.currency))
    if since is not None:
        query = query.where(col(JournalEntry.posted_at) >= since)
    rows = (await (await session.connection()).execute(query)).all()
    return [(ch, cur, Decimal(r or 0), Decimal(c or 0)) for ch, cur, r, c in rows]


async def margins_by_bucket(
    session: AsyncSession, *, since: datetime, bucket: ColumnElement[str]
) -> list[tuple[str, str, str, Decimal, Decimal]]:
    """(bucket key, channel, currency, revenue, cost of goods sold) per `bucket` of posting time
    (`keel_kit.kpi_series.bucket_key`), of the entries posted since `since`."""
    query = _margins(bucket).where(col(JournalEntry.posted_at) >= since)
    rows = (await (await session.connection()).execute(query)).all()
    return [(key, ch, cur, Decimal(r or 0), Decimal(c or 0)) for key, ch, cur, r, c in rows]
