"""Valuation queries: each SKU's stock at moving average cost, its row locked while it moves."""

from collections.abc import Collection, Sequence
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_finance.domain import INVENTORY
from keel_finance.models import JournalLine, StockValuation
from keel_kit.db import upsert_insert
from keel_kit.tables import utcnow

VALUATION = SQLModel.metadata.tables[StockValuation.__tablename__]
# The valuation rows this session's transaction has locked, by SKU (see valuation_for_update).
# Kept here, not only in the identity map, which holds objects weakly.
_LOCKED_VALUATIONS = "keel_finance.locked_valuations"


async def lock_valuations(session: AsyncSession, skus: Collection[str]) -> None:
    """Read and lock the valuation rows of a batch's SKUs in one query, in SKU order (so two
    replicas locking overlapping batches cannot deadlock); `valuation_for_update` then answers
    from memory. A SKU finance has no row for is left to `valuation_for_update` to ask again.

    Not inside a savepoint (the kit redoing a batch message by message): there every message
    locks what it reads (see `valuation_for_update`). Read afresh (`populate_existing`), as the
    session's copies may be stale.
    """
    if not skus or session.in_nested_transaction():
        return
    query = (
        select(StockValuation)
        .where(col(StockValuation.sku).in_(sorted(skus)))
        .order_by(col(StockValuation.sku))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    with session.no_autoflush:
        rows = (await session.exec(query)).all()
    locked: dict[str, StockValuation] = session.info.setdefault(_LOCKED_VALUATIONS, {})
    locked.update((row.sku, row) for row in rows)


async def valuation_for_update(session: AsyncSession, sku: str) -> StockValuation | None:
    """The SKU's valuation row, locked until the transaction ends; None if finance has none.

    Two replicas can apply events of one SKU at once (a partition changing hands), so the first
    read in a transaction is a SELECT ... FOR UPDATE (SQLite, locked whole at BEGIN, omits the
    clause), unless the batch locked the row up front (`lock_valuations`). Later reads come from
    memory, so the events of one batch see each other's changes before anything is flushed. A
    savepoint rolled back releases the locks taken inside it, so while a savepoint is open (the
    kit redoing a batch message by message) every read locks again. Nothing is flushed first:
    a flush per message would break up the batch's bulk writes.
    """
    locked: dict[str, StockValuation] = session.info.setdefault(_LOCKED_VALUATIONS, {})
    isolated = session.in_nested_transaction()
    if sku in locked and not isolated:
        return locked[sku]
    with session.no_autoflush:
        row = await session.get(StockValuation, sku, with_for_update=True)
    if row is not None and not isolated:
        locked[sku] = row
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
    session: AsyncSession, *, cursor: str | None, limit: int
) -> Sequence[StockValuation]:
    """Valuations in SKU order, a page of `limit`; a page's cursor is its last SKU, and the
    next page starts after it."""
    query = select(StockValuation).order_by(col(StockValuation.sku)).limit(limit)
    if cursor is not None:
        query = query.where(col(StockValuation.sku) > cursor)
    return (await session.exec(query)).all()


async def inventory_account_and_valuation(session: AsyncSession) -> tuple[Decimal, Decimal]:
    """The inventory account's balance and the sum of the valuations, in one statement, so both
    come from one snapshot even while stock events are being posted."""
    account = (
        core_select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
        .where(col(JournalLine.account) == INVENTORY)
        .scalar_subquery()
    )
    valued = core_select(func.coalesce(func.sum(StockValuation.value), 0)).scalar_subquery()
    row = (await (await session.connection()).execute(core_select(account, valued))).one()
    return Decimal(row[0] or 0), Decimal(row[1] or 0)


async def valued_quantities(session: AsyncSession) -> dict[str, int]:
    """Every valued SKU's quantity, negative ones included."""
    rows = await session.exec(select(StockValuation.sku, StockValuation.quantity))
    return dict(rows.all())
