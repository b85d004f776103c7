"""Every inventory query lives here."""

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory.models import Item, Location, StockBalance, StockMovement
from keel_kit.db import upsert_insert


async def get_item(session: AsyncSession, sku: str) -> Item | None:
    return await session.get(Item, sku)


async def get_location(session: AsyncSession, location_id: str) -> Location | None:
    return await session.get(Location, location_id)


async def add_movement(session: AsyncSession, movement: StockMovement) -> None:
    """Append a movement and move its balance in the same statement set.

    The balance update is a single atomic upsert, so concurrent movements on one key add up.
    """
    session.add(movement)
    statement = upsert_insert(session, StockBalance).values(
        sku=movement.sku,
        location_id=movement.location_id,
        state=movement.state,
        quantity=movement.quantity,
    )
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["sku", "location_id", "state"],
            set_={"quantity": StockBalance.quantity + statement.excluded.quantity},
        )
    )


async def balances_for_sku(session: AsyncSession, sku: str) -> Sequence[StockBalance]:
    rows = await session.exec(
        select(StockBalance)
        .where(StockBalance.sku == sku)
        .order_by(col(StockBalance.location_id), col(StockBalance.state))
    )
    return rows.all()


async def movements(
    session: AsyncSession, *, sku: str | None, after: str | None, limit: int
) -> Sequence[StockMovement]:
    """Movements in id order (UUIDv7 ids sort by time), paged by the last id seen."""
    query = select(StockMovement).order_by(col(StockMovement.movement_id)).limit(limit)
    if sku is not None:
        query = query.where(StockMovement.sku == sku)
    if after is not None:
        query = query.where(col(StockMovement.movement_id) > after)
    return (await session.exec(query)).all()
