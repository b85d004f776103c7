"""The availability feed's queries: which SKUs changed, what they stand at, what was sent.

Stock changes mark their SKUs (`stock.mark_changed`, in a batch when it commits); the
publishing job takes the marked rows locked, skipping those a stock change is marking right now
(it marks them again when it commits, so nothing is missed), and clears them as it publishes.
"""

from collections.abc import Collection, Sequence

from sqlalchemy import bindparam, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory.domain import RESERVED, SELLABLE, available
from keel_inventory.repository.batch import BALANCE, FEED, flush
from keel_inventory.repository.stock import mark_changed

_PUBLISHED = (
    update(FEED)
    .where(FEED.c.sku == bindparam("key"))
    .values(dirty=False, published=bindparam("payload"))
)


async def changed_skus(session: AsyncSession, limit: int) -> list[str]:
    """Up to `limit` SKUs marked changed, locked until this transaction ends."""
    await flush(session)
    rows = await (await session.connection()).execute(
        select(FEED.c.sku)
        .where(FEED.c.dirty.is_(True))
        .order_by(FEED.c.sku)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [sku for (sku,) in rows.all()]


async def last_published(session: AsyncSession, skus: Collection[str]) -> dict[str, str | None]:
    rows = await (await session.connection()).execute(
        select(FEED.c.sku, FEED.c.published).where(FEED.c.sku.in_(list(skus)))
    )
    return {sku: published for sku, published in rows.all()}


async def stock_for_sale(
    session: AsyncSession, skus: Collection[str]
) -> dict[str, tuple[int, int]]:
    """(sellable, free) per SKU over every location; free is never negative at a location."""
    rows = await (await session.connection()).execute(
        select(BALANCE.c.sku, BALANCE.c.location_id, BALANCE.c.state, BALANCE.c.quantity).where(
            BALANCE.c.sku.in_(list(skus)), BALANCE.c.state.in_((SELLABLE, RESERVED))
        )
    )
    levels: dict[str, dict[str, list[int]]] = {sku: {} for sku in skus}
    for sku, location_id, state, quantity in rows.all():
        pair = levels[sku].setdefault(location_id, [0, 0])
        pair[0 if state == SELLABLE else 1] = quantity
    return {
        sku: (
            sum(s for s, _ in by_location.values()),
            sum(available(s, r) for s, r in by_location.values()),
        )
        for sku, by_location in levels.items()
    }


async def record_published(session: AsyncSession, payloads: Sequence[tuple[str, str]]) -> None:
    """Clear the SKUs' marks, keeping each one's payload as the last published."""
    if payloads:
        params = [{"key": sku, "payload": payload} for sku, payload in payloads]
        await (await session.connection()).execute(_PUBLISHED, params)


async def mark_every_sku_changed(session: AsyncSession) -> None:
    """Every SKU with stock to its name is marked changed (a rule or a channel that touches
    them all)."""
    await flush(session)
    connection = await session.connection()
    skus = [sku for (sku,) in (await connection.execute(select(BALANCE.c.sku).distinct())).all()]
    await mark_changed(session, skus)
