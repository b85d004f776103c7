"""Every finance query lives here."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, or_
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_finance.domain import COST_OF_GOODS_SOLD, SALES_RETURNS, SALES_REVENUE, SHIPPING_INCOME
from keel_finance.models import (
    JournalEntry,
    JournalLine,
    OrderChannel,
    Payment,
    Refund,
    StockValuation,
)
from keel_kit.db import upsert_insert
from keel_kit.tables import utcnow

# Sales returns is contra-revenue: its debits (refunds) reduce a channel's revenue.
REVENUE_ACCOUNTS = (SALES_REVENUE, SHIPPING_INCOME, SALES_RETURNS)


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


async def margins_by_channel(
    session: AsyncSession, *, since: datetime | None = None
) -> list[tuple[str, Decimal, Decimal]]:
    """(channel, revenue, cost of goods sold) from the journal, for orders of known channel,
    counting the entries posted since `since` if given."""
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
    if since is not None:
        query = query.where(col(JournalEntry.posted_at) >= since)
    rows = (await session.exec(query)).all()
    return [(channel, Decimal(r or 0), Decimal(c or 0)) for channel, r, c in rows]


async def totals_by_account(session: AsyncSession) -> dict[str, tuple[Decimal, Decimal]]:
    rows = await session.exec(
        select(
            JournalLine.account, func.sum(JournalLine.debit), func.sum(JournalLine.credit)
        ).group_by(col(JournalLine.account))
    )
    return {account: (Decimal(d or 0), Decimal(c or 0)) for account, d, c in rows.all()}


# The payments this transaction knows of, by order id: those a batch loaded (None where the
# order has none yet) and those it added. Kept here because the session's identity map holds
# objects only weakly and cannot say "no such payment".
_KNOWN_PAYMENTS = "keel_finance.known_payments"


async def load_payments(session: AsyncSession, order_ids: set[str]) -> None:
    """Read and lock the payments of a batch's orders in one query; `get_payment` then answers
    from memory. Locked because refunds arrive keyed by return, so two returns of one order can
    be refunded by two replicas at once; in order id order, so they cannot deadlock. Read
    afresh: a rolled-back savepoint may have left the session's copies stale."""
    if not order_ids:
        return
    query = (
        select(Payment)
        .where(col(Payment.order_id).in_(order_ids))
        .order_by(col(Payment.order_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    with session.no_autoflush:
        found = {payment.order_id: payment for payment in (await session.exec(query)).all()}
    known: dict[str, Payment | None] = session.info.setdefault(_KNOWN_PAYMENTS, {})
    for order_id in order_ids:
        known[order_id] = found.get(order_id)


async def get_payment(session: AsyncSession, order_id: str) -> Payment | None:
    """The order's payment, looked up without flushing the transaction first.

    The kit calls a handler per message inside one transaction per batch; letting each lookup
    autoflush would turn the batch's bulk inserts into round trips per message.
    """
    known: dict[str, Payment | None] = session.info.get(_KNOWN_PAYMENTS, {})
    if order_id in known:
        return known[order_id]
    with session.no_autoflush:
        return await session.get(Payment, order_id)


def add_payment(session: AsyncSession, payment: Payment) -> None:
    session.add(payment)
    session.info.setdefault(_KNOWN_PAYMENTS, {})[payment.order_id] = payment


# The refunds this transaction knows of, by refund id, as for payments above.
_KNOWN_REFUNDS = "keel_finance.known_refunds"


async def load_refunds(session: AsyncSession, refund_ids: set[str]) -> None:
    """Read a batch's refunds in one query; `get_refund` then answers from memory."""
    if not refund_ids:
        return
    query = (
        select(Refund)
        .where(col(Refund.refund_id).in_(refund_ids))
        .execution_options(populate_existing=True)
    )
    with session.no_autoflush:
        found = {refund.refund_id: refund for refund in (await session.exec(query)).all()}
    known: dict[str, Refund | None] = session.info.setdefault(_KNOWN_REFUNDS, {})
    for refund_id in refund_ids:
        known[refund_id] = found.get(refund_id)


async def get_refund(session: AsyncSession, refund_id: str) -> Refund | None:
    """The refund of this id, if finance carried it out; no flush first (see `get_payment`)."""
    known: dict[str, Refund | None] = session.info.get(_KNOWN_REFUNDS, {})
    if refund_id in known:
        return known[refund_id]
    with session.no_autoflush:
        return await session.get(Refund, refund_id)


def add_refund(session: AsyncSession, refund: Refund) -> None:
    session.add(refund)
    session.info.setdefault(_KNOWN_REFUNDS, {})[refund.refund_id] = refund


VALUATION = SQLModel.metadata.tables[StockValuation.__tablename__]
# SKUs whose valuation row this session's transaction has locked (see valuation_for_update).
_LOCKED_VALUATIONS = "keel_finance.locked_valuations"


async def valuation_for_update(session: AsyncSession, sku: str) -> StockValuation | None:
    """The SKU's valuation row, locked until the transaction ends; None if finance has none.

    Two replicas can apply events of one SKU at once (a partition changing hands), so the first
    read in a transaction is a SELECT ... FOR UPDATE (SQLite, locked whole at BEGIN, omits the
    clause). Later reads come from the session's identity map, so the events of one batch see
    each other's changes before anything is flushed. A savepoint rolled back releases the locks
    taken inside it, so while a savepoint is open (the kit redoing a batch message by message)
    every read locks again. Nothing is flushed first: a flush per message would break up the
    batch's bulk writes.
    """
    locked: set[str] = session.info.setdefault(_LOCKED_VALUATIONS, set())
    isolated = session.in_nested_transaction()
    with session.no_autoflush:
        if sku in locked and not isolated:
            return await session.get(StockValuation, sku)
        row = await session.get(StockValuation, sku, with_for_update=True)
    if row is not None and not isolated:
        locked.add(sku)
    return row


async def create_valuation(session: AsyncSession, sku: str, currency: str) -> StockValuation:
    """An empty valuation row for a SKU finance has not valued before, locked like any other.

    ON CONFLICT DO NOTHING because another replica may be creating the same row: this waits for
    it and then takes its row, where a plain insert would fail the batch on the primary key.
    """
    await session.exec(
        upsert_insert(session, VALUATION)
        .values(sku=sku, currency=currency, quantity=0, value=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["sku"])
    )
    row = await valuation_for_update(session, sku)
    if row is None:  # rows are never deleted, so one inserted or committed is there
        raise RuntimeError(f"the valuation of {sku} vanished as it was created")
    return row


async def get_valuation(session: AsyncSession, sku: str) -> StockValuation | None:
    return await session.get(StockValuation, sku)


async def valuations(
    session: AsyncSession, *, after: str | None, limit: int
) -> Sequence[StockValuation]:
    """Valuations in SKU order, the page after the SKU `after`."""
    query = select(StockValuation).order_by(col(StockValuation.sku)).limit(limit)
    if after is not None:
        query = query.where(col(StockValuation.sku) > after)
    return (await session.exec(query)).all()
