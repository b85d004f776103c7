"""What issues, returns and adjustments of stock were costed at: remembered once per inventory
movement, staged for the unit of work's bulk insert, and a batch's looked up once."""

from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import func, union_all
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_finance.models import (
    ADJUSTED_STOCK,
    ISSUED_STOCK,
    RETURNED_STOCK,
    AdjustedStock,
    ReturnedStock,
)
from keel_kit import staged
from keel_kit.tables import utcnow

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
