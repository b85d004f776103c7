"""Every finance query lives here."""

from collections.abc import Collection, Sequence
from decimal import Decimal

from sqlalchemy import func, or_, union_all
from sqlalchemy import select as core_select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_finance.domain import (
    INVENTORY,
)
from keel_finance.models import (
    ADJUSTED_STOCK,
    ISSUED_STOCK,
    RETURNED_STOCK,
    AdjustedStock,
    JournalEntry,
    JournalLine,
    Payment,
    Refund,
    ReturnedStock,
    StockValuation,
)
from keel_kit import staged
from keel_kit.db import upsert_insert
from keel_kit.tables import utcnow


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


async def totals_by_account(session: AsyncSession) -> dict[str, dict[str, tuple[Decimal, Decimal]]]:
    """Per currency, per account: (debits, credits) over every entry posted in that currency.
    An entry is in one currency, so the amounts of two currencies are never added up."""
    rows = await session.exec(
        select(
            JournalEntry.currency,
            JournalLine.account,
            func.sum(JournalLine.debit),
            func.sum(JournalLine.credit),
        )
        .join(JournalEntry, col(JournalEntry.entry_id) == col(JournalLine.entry_id))
        .group_by(col(JournalEntry.currency), col(JournalLine.account))
    )
    totals: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    for currency, account, debits, credits in rows.all():
        totals.setdefault(currency, {})[account] = (Decimal(debits or 0), Decimal(credits or 0))
    return totals


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


# --- what returned units come back at ---

# (currency, units, value) of an order's issues of a SKU (positive) and its returns (negative).
Moves = list[tuple[str, int, Decimal]]
# Per (order id, sku): the moves of the pairs a batch's returns need, loaded for the batch and
# then kept up to date by its issues and returns, so a return sees the batch's earlier issues of
# its order, which are staged and not yet written.
_SOLD = "keel_finance.sold_moves"
# Per return movement id: whether finance has valued it (loaded for the batch, then marked).
_RETURNED = "keel_finance.returned_movements"


async def load_returns(session: AsyncSession, returns: Collection[tuple[str, str, str]]) -> None:
    """For a batch's graded returns, (movement id, order id, sku) each, read which movements
    finance valued already and the moves of their (order, SKU) pairs, in two queries; then
    `is_returned` and `sold_moves` answer from memory. Read afresh, replacing what the session
    knew: a rolled-back savepoint may have left it stale."""
    if not returns:
        return
    movement_ids = {movement_id for movement_id, _, _ in returns}
    with session.no_autoflush:
        query = select(ReturnedStock.movement_id).where(
            col(ReturnedStock.movement_id).in_(movement_ids)
        )
        valued = set((await session.exec(query)).all())
    known: dict[str, bool] = session.info.setdefault(_RETURNED, {})
    for movement_id in movement_ids:
        known[movement_id] = movement_id in valued
    await _load_sold(session, {(order_id, sku) for _, order_id, sku in returns})


async def _load_sold(session: AsyncSession, pairs: set[tuple[str, str]]) -> None:
    orders = {order_id for order_id, _ in pairs}
    issued, returned = ISSUED_STOCK.c, RETURNED_STOCK.c
    moves = union_all(
        core_select(
            issued.order_id, issued.sku, issued.currency, issued.quantity, issued.value
        ).where(issued.order_id.in_(orders)),
        core_select(
            returned.order_id,
            returned.sku,
            returned.currency,
            -returned.quantity,
            -returned.value,
        ).where(returned.order_id.in_(orders)),
    ).subquery()
    query = core_select(
        moves.c.order_id,
        moves.c.sku,
        moves.c.currency,
        func.sum(moves.c.quantity),
        func.sum(moves.c.value),
    ).group_by(moves.c.order_id, moves.c.sku, moves.c.currency)
    # Straight on the connection: the session would flush first.
    rows = (await (await session.connection()).execute(query)).all()
    known: dict[tuple[str, str], Moves] = session.info.setdefault(_SOLD, {})
    for pair in pairs:
        known[pair] = []
    for order_id, sku, currency, quantity, value in rows:
        if (order_id, sku) in pairs:
            known[(order_id, sku)].append((currency, int(quantity), Decimal(value)))


async def is_returned(session: AsyncSession, movement_id: str) -> bool:
    """Whether finance has valued this return movement (see `load_returns`); no flush first."""
    known: dict[str, bool] = session.info.get(_RETURNED, {})
    if movement_id in known:
        return known[movement_id]
    with session.no_autoflush:
        return await session.get(ReturnedStock, movement_id) is not None


async def sold_moves(session: AsyncSession, order_id: str, sku: str) -> Moves:
    """The order's issues and returns of the SKU so far (see `load_returns`). A pair the batch
    did not load is read from the database, which does not yet hold what this transaction
    staged."""
    known: dict[tuple[str, str], Moves] = session.info.get(_SOLD, {})
    if (order_id, sku) not in known:
        await _load_sold(session, {(order_id, sku)})
        known = session.info[_SOLD]
    return list(known[(order_id, sku)])


def record_issue(
    session: AsyncSession,
    *,
    movement_id: str,
    order_id: str,
    sku: str,
    currency: str,
    quantity: int,
    value: Decimal,
) -> None:
    """Remember what an issue was costed at, staged for the batch's bulk insert."""
    staged.stage(
        session,
        ISSUED_STOCK,
        {
            "movement_id": movement_id,
            "order_id": order_id,
            "sku": sku,
            "currency": currency,
            "quantity": quantity,
            "value": value,
            "created_at": utcnow(),
        },
    )
    known: dict[tuple[str, str], Moves] = session.info.get(_SOLD, {})
    if (order_id, sku) in known:
        known[(order_id, sku)].append((currency, quantity, value))


def record_return(session: AsyncSession, returned: ReturnedStock) -> None:
    """Remember a return movement as valued, staged for the batch's bulk insert; its primary key
    refuses a second one for the same movement."""
    staged.stage(session, RETURNED_STOCK, returned.model_dump())
    session.info.setdefault(_RETURNED, {})[returned.movement_id] = True
    known: dict[tuple[str, str], Moves] = session.info.get(_SOLD, {})
    pair = (returned.order_id, returned.sku)
    if pair in known:
        known[pair].append((returned.currency, -returned.quantity, -returned.value))


# --- what adjustments moved ---

# Per adjustment movement id: whether finance has valued it (loaded for the batch, then marked).
_ADJUSTED = "keel_finance.adjusted_movements"


async def load_adjustments(session: AsyncSession, movement_ids: Collection[str]) -> None:
    """Read which of a batch's adjustment movements finance valued already, in one query;
    `is_adjusted` then answers from memory. Read afresh, as `load_returns` is."""
    if not movement_ids:
        return
    query = select(AdjustedStock.movement_id).where(
        col(AdjustedStock.movement_id).in_(movement_ids)
    )
    with session.no_autoflush:
        valued = set((await session.exec(query)).all())
    known: dict[str, bool] = session.info.setdefault(_ADJUSTED, {})
    known.update((movement_id, movement_id in valued) for movement_id in movement_ids)


async def is_adjusted(session: AsyncSession, movement_id: str) -> bool:
    """Whether finance has valued this adjustment movement (see `load_adjustments`)."""
    known: dict[str, bool] = session.info.get(_ADJUSTED, {})
    if movement_id in known:
        return known[movement_id]
    with session.no_autoflush:
        return await session.get(AdjustedStock, movement_id) is not None


def record_adjustment(session: AsyncSession, adjusted: AdjustedStock) -> None:
    """Remember an adjustment movement as valued, staged for the batch's bulk insert; its primary
    key refuses a second one for the same movement."""
    staged.stage(session, ADJUSTED_STOCK, adjusted.model_dump())
    session.info.setdefault(_ADJUSTED, {})[adjusted.movement_id] = True
