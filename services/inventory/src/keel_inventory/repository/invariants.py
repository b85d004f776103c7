"""The stock invariants `GET /v1/invariants` reports: balances off the sum of their movements,
and locations holding more reserved than sellable. Each is counted whole, and listed a page at a
time in key order, so a report never stops at an arbitrary number of them.

Every figure is read in one statement (the ledger and the balances from one snapshot, even while
stock moves); a page and the counts are read apart, so on a live system they may differ by what
moved in between."""

from sqlalchemy import Select, and_, func, select, tuple_
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory.domain import RESERVED, SELLABLE
from keel_inventory.repository.batch import BALANCE, flush
from keel_inventory.repository.stock import ledger_beside_balances

MismatchKey = tuple[str, str, str]  # (sku, location, state)
OversoldKey = tuple[str, str]  # (sku, location)


def _off_the_ledger() -> Select[str, str, str, int, int]:
    """(sku, location, state, sum of movements, balance) wherever the two differ."""
    side_by_side = ledger_beside_balances()
    ledger, balance = side_by_side.selected_columns[3:5]
    return side_by_side.having(ledger != balance)


async def count_ledger_mismatches(session: AsyncSession) -> int:
    await flush(session)
    found = _off_the_ledger().subquery()
    connection = await session.connection()
    return int((await connection.execute(select(func.count()).select_from(found))).scalar_one())


async def ledger_mismatches(
    session: AsyncSession, *, after: MismatchKey | None, limit: int
) -> list[tuple[str, str, str, int, int]]:
    """Balances off their ledger in (sku, location, state) order, after the key `after`."""
    await flush(session)
    query = _off_the_ledger()
    found = query.selected_columns
    if after is not None:
        query = query.where(tuple_(found[0], found[1], found[2]) > tuple_(*after))
    query = query.order_by(found[0], found[1], found[2]).limit(limit)
    rows = await (await session.connection()).execute(query)
    return [
        (sku, location, state, int(ledger or 0), int(balance or 0))
        for sku, location, state, ledger, balance in rows.all()
    ]


def _oversold() -> Select[str, str, int, int]:
    """(sku, location, sellable, reserved) wherever more is reserved than is sellable."""
    reserved, sellable = BALANCE.alias("reserved"), BALANCE.alias("sellable")
    on_hand = func.coalesce(sellable.c.quantity, 0)
    return (
        select(reserved.c.sku, reserved.c.location_id, on_hand, reserved.c.quantity)
        .select_from(
            reserved.outerjoin(
                sellable,
                and_(
                    sellable.c.sku == reserved.c.sku,
                    sellable.c.location_id == reserved.c.location_id,
                    sellable.c.state == SELLABLE,
                ),
            )
        )
        .where(reserved.c.state == RESERVED, reserved.c.quantity > on_hand)
    )


async def count_oversold(session: AsyncSession) -> tuple[int, int]:
    """How many locations hold more reserved than sellable, and by how many units in all."""
    await flush(session)
    found = _oversold().subquery()
    sellable, reserved = found.c[2], found.c[3]
    query = select(func.count(), func.coalesce(func.sum(reserved - sellable), 0)).select_from(found)
    locations, units = (await (await session.connection()).execute(query)).one()
    return int(locations), int(units)


async def oversold_locations(
    session: AsyncSession, *, after: OversoldKey | None, limit: int
) -> list[tuple[str, str, int, int]]:
    """Oversold locations in (sku, location) order, after the key `after`."""
    await flush(session)
    query = _oversold()
    found = query.selected_columns
    if after is not None:
        query = query.where(tuple_(found[0], found[1]) > tuple_(*after))
    query = query.order_by(found[0], found[1]).limit(limit)
    rows = await (await session.connection()).execute(query)
    return [
        (sku, location, int(sellable), int(reserved)) for sku, location, sellable, reserved in rows
    ]
