"""Lot queries: the lots at a location in first-expiry-first-out order, the lot ledger and its
projection. Written straight through the session: every change to a lot is read back by the
next pick in the same transaction."""

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, nulls_last
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory.domain import SELLABLE
from keel_inventory.lot_models import Lot, LotMovement, LotStock
from keel_inventory.models import StockBalance
from keel_inventory.repository.batch import batch_work, flush


async def note_lotless(session: AsyncSession, skus: Collection[str]) -> None:
    """Learn, for this batch, which of `skus` have no lot on hand anywhere (one query)."""
    work = await batch_work(session)
    if work is None or not skus:
        return
    lotted = await session.exec(
        select(LotStock.sku).where(col(LotStock.sku).in_(skus), col(LotStock.quantity) > 0)
    )
    work.lotless |= set(skus) - set(lotted.all())


async def lotless(session: AsyncSession, sku: str) -> bool:
    """Whether this batch knows `sku` has no lot on hand (False: it may have, ask)."""
    work = await batch_work(session)
    return work is not None and sku in work.lotless


async def lots_to_pick(
    session: AsyncSession, sku: str, location_id: str
) -> Sequence[tuple[LotStock, Lot]]:
    """The lots of `sku` sellable at a location, the first to expire first (those that never
    expire last, then the oldest), locked."""
    rows = await session.exec(
        select(LotStock, Lot)
        .join(Lot, (col(Lot.sku) == col(LotStock.sku)) & (col(Lot.lot) == col(LotStock.lot)))
        .where(
            LotStock.sku == sku,
            LotStock.location_id == location_id,
            LotStock.state == SELLABLE,
            col(LotStock.quantity) > 0,
        )
        .order_by(nulls_last(col(Lot.expires_on)), col(Lot.first_received_at), col(Lot.lot))
        .with_for_update(of=LotStock)
    )
    return rows.all()


async def lot_stock(
    session: AsyncSession, sku: str, location_id: str, lot: str, state: str = SELLABLE
) -> LotStock | None:
    return await session.get(LotStock, (sku, location_id, lot, state), with_for_update=True)


async def get_lot(session: AsyncSession, sku: str, lot: str) -> Lot | None:
    return await session.get(Lot, (sku, lot))


async def lots_of(session: AsyncSession, sku: str) -> Sequence[Lot]:
    rows = await session.exec(
        select(Lot)
        .where(Lot.sku == sku)
        .order_by(nulls_last(col(Lot.expires_on)), col(Lot.first_received_at), col(Lot.lot))
    )
    return rows.all()


async def on_hand(session: AsyncSession, sku: str, lots: Sequence[str]) -> Sequence[LotStock]:
    rows = await session.exec(
        select(LotStock)
        .where(LotStock.sku == sku, col(LotStock.lot).in_(lots), col(LotStock.quantity) != 0)
        .order_by(col(LotStock.lot), col(LotStock.location_id), col(LotStock.state))
    )
    return rows.all()


async def lot_movements(
    session: AsyncSession, sku: str, lot: str, *, kinds: Sequence[str]
) -> Sequence[LotMovement]:
    rows = await session.exec(
        select(LotMovement)
        .where(LotMovement.sku == sku, LotMovement.lot == lot, col(LotMovement.kind).in_(kinds))
        .order_by(col(LotMovement.movement_id))
    )
    return rows.all()


async def out_with_order(session: AsyncSession, order_id: str, sku: str) -> dict[str, int]:
    """Units of each lot of `sku` an order took and has not returned (issues less returns)."""
    rows = await session.exec(
        select(LotMovement.lot, func.sum(LotMovement.quantity))
        .where(
            LotMovement.order_id == order_id,
            LotMovement.sku == sku,
            col(LotMovement.kind).in_(("issue", "return")),
        )
        .group_by(col(LotMovement.lot))
        .order_by(col(LotMovement.lot))
    )
    return {lot: -int(units) for lot, units in rows.all() if units < 0}


async def moved_by(
    session: AsyncSession, reference: str, *, location_id: str, state: str
) -> dict[str, int]:
    """Units per lot that the movements naming `reference` left in `state` at a location."""
    rows = await session.exec(
        select(LotMovement.lot, func.sum(LotMovement.quantity))
        .where(
            LotMovement.reference == reference,
            LotMovement.location_id == location_id,
            LotMovement.state == state,
        )
        .group_by(col(LotMovement.lot))
    )
    return {lot: int(units) for lot, units in rows.all() if units}


async def add_lot_movement(
    session: AsyncSession, stock: LotStock, movement: dict[str, Any]
) -> None:
    """Append a lot movement and move its lot's stock with it."""
    work = await batch_work(session)
    if work is not None:
        work.lotless.discard(stock.sku)
    stock.quantity += movement["quantity"]
    session.add(stock)
    session.add(LotMovement(**movement))


async def lots_beside_balances(
    session: AsyncSession,
) -> list[tuple[str, str, str, str, int, int]]:
    """(sku, location, state, lot, sum of lot movements, lot stock) for every key where they
    differ or the stock is negative, and (sku, location, state, "", units in lots, balance)
    where a state's lots come to more than its balance: the lot invariants' findings (a
    diagnostic: it reads both ledgers whole)."""
    await flush(session)
    movements = SQLModel.metadata.tables[LotMovement.__tablename__].c
    ledger = await (await session.connection()).execute(
        sa_select(
            movements.sku,
            movements.location_id,
            movements.state,
            movements.lot,
            func.sum(movements.quantity),
        ).group_by(movements.sku, movements.location_id, movements.state, movements.lot)
    )
    moved = {(sku, loc, state, lot): int(units) for sku, loc, state, lot, units in ledger.all()}
    stock = {
        (row.sku, row.location_id, row.state, row.lot): row.quantity
        for row in (await session.exec(select(LotStock))).all()
    }
    findings = [
        (*key, moved.get(key, 0), stock.get(key, 0))
        for key in sorted(moved.keys() | stock.keys())
        if moved.get(key, 0) != stock.get(key, 0) or stock.get(key, 0) < 0
    ]
    in_lots: dict[tuple[str, str, str], int] = {}
    for (sku, loc, state, _lot), units in stock.items():
        in_lots[(sku, loc, state)] = in_lots.get((sku, loc, state), 0) + units
    balances = await session.exec(select(StockBalance))
    by_key = {(b.sku, b.location_id, b.state): b.quantity for b in balances.all()}
    findings += [
        (sku, loc, state, "", units, by_key.get((sku, loc, state), 0))
        for (sku, loc, state), units in sorted(in_lots.items())
        if units > by_key.get((sku, loc, state), 0)
    ]
    return findings
