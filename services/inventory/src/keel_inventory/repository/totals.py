"""Stock totals per SKU and state, over all locations: what `GET /v1/balances` lists and finance's
inventory reconciliation reads."""

from collections.abc import Collection

from sqlalchemy import case, func, literal, select, union_all
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory import models
from keel_inventory.domain import WRITTEN_OFF
from keel_inventory.repository.batch import BALANCE, MOVEMENT, flush

ITEM = SQLModel.metadata.tables[models.Item.__tablename__]
ON_ORDER_LINE = SQLModel.metadata.tables[models.OnOrderLine.__tablename__]
ON_ORDER = "on_order"
# The kind of the movements that take written-off units out of stock (see returns.py).
WRITE_OFF_KIND = "write_off"


async def sku_page(session: AsyncSession, *, after: str | None, limit: int) -> list[str]:
    """The item master's SKUs in SKU order, the page after the SKU `after`."""
    query = select(ITEM.c.sku).order_by(ITEM.c.sku).limit(limit)
    if after is not None:
        query = query.where(ITEM.c.sku > after)
    return list((await (await session.connection()).execute(query)).scalars())


async def state_totals(session: AsyncSession, skus: Collection[str]) -> dict[str, dict[str, int]]:
    """Per SKU, its units per state summed over its locations, in one statement: every ledger
    state it has held stock in (zeros included), `on_order` while a purchase order line for it
    is open (what the line still brings), and `written_off`, the units written off to date. A
    SKU with none of these has no states."""
    if not skus:
        return {}
    await flush(session)
    wanted = list(skus)
    still_to_come = case(
        (
            ON_ORDER_LINE.c.ordered > ON_ORDER_LINE.c.received,
            ON_ORDER_LINE.c.ordered - ON_ORDER_LINE.c.received,
        ),
        else_=0,
    )
    units = union_all(
        select(BALANCE.c.sku, BALANCE.c.state, BALANCE.c.quantity).where(BALANCE.c.sku.in_(wanted)),
        select(ON_ORDER_LINE.c.sku, literal(ON_ORDER), still_to_come).where(
            ON_ORDER_LINE.c.sku.in_(wanted), ON_ORDER_LINE.c.is_open
        ),
        # A write-off takes the units out of pending_inspection into no state: the ledger keeps
        # them as movements of their own kind.
        select(MOVEMENT.c.sku, literal(WRITTEN_OFF), -MOVEMENT.c.quantity).where(
            MOVEMENT.c.sku.in_(wanted), MOVEMENT.c.kind == WRITE_OFF_KIND
        ),
    ).subquery()
    rows = await (await session.connection()).execute(
        select(units.c.sku, units.c.state, func.sum(units.c.quantity)).group_by(
            units.c.sku, units.c.state
        )
    )
    totals: dict[str, dict[str, int]] = {sku: {} for sku in wanted}
    for sku, state, quantity in rows.all():
        totals[sku][state] = int(quantity or 0)
    return {sku: dict(sorted(states.items())) for sku, states in totals.items()}
