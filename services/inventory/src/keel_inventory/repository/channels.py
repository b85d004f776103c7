"""Channel allocation queries: the rules, and what each channel holds reserved per SKU.

Both are read inside the stock-changes lock by the reservation paths. In a consumer's batch
they are read once per SKU and kept current in memory (`BatchWork`), as balances are; the hold
deltas are written when the batch commits.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import bindparam, func, or_, select
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory import models
from keel_inventory.channel_rules import EVERY_SKU, ChannelRule
from keel_inventory.domain import RESERVED
from keel_inventory.repository.batch import (
    CHANNEL_HOLD,
    MOVEMENT,
    RESERVATION,
    batch_work,
    channel_hold_upsert,
    flush,
)

RuleRow = tuple[str, str, ChannelRule]  # (channel, sku or EVERY_SKU, rule)

_RULE = models.ChannelRule
_RULES_FOR = select(
    col(_RULE.channel_id),
    col(_RULE.sku),
    col(_RULE.cap_percent),
    col(_RULE.cap_units),
    col(_RULE.pool_units),
    col(_RULE.safety_units),
).where(or_(col(_RULE.sku).in_(bindparam("skus", expanding=True)), col(_RULE.sku) == EVERY_SKU))
_HOLDS_OF = select(CHANNEL_HOLD.c.sku, CHANNEL_HOLD.c.channel, CHANNEL_HOLD.c.quantity).where(
    CHANNEL_HOLD.c.sku.in_(bindparam("skus", expanding=True))
)


async def rules_for(session: AsyncSession, skus: Collection[str]) -> dict[str, list[RuleRow]]:
    """Per SKU, the rule rows that may apply to it: its own and every channel's default."""
    work = await batch_work(session)
    cache = work.rules if work is not None else {}
    wanted = sorted(set(skus) - cache.keys())
    if wanted:
        rows = await (await session.connection()).execute(_RULES_FOR, {"skus": wanted})
        found: list[RuleRow] = [(c, s, ChannelRule(*limits)) for c, s, *limits in rows.all()]
        for sku in wanted:
            cache[sku] = [row for row in found if row[1] in (sku, EVERY_SKU)]
    return {sku: cache[sku] for sku in skus}


async def channel_holds(session: AsyncSession, skus: Collection[str]) -> dict[str, dict[str, int]]:
    """Per SKU, the units each channel holds reserved (channels holding none left out)."""
    work = await batch_work(session)
    cache = work.channel_held if work is not None else {}
    wanted = sorted(set(skus) - cache.keys())
    if wanted:
        rows = await (await session.connection()).execute(_HOLDS_OF, {"skus": wanted})
        found: dict[str, dict[str, int]] = {sku: defaultdict(int) for sku in wanted}
        for sku, channel, quantity in rows.all():
            found[sku][channel] += quantity
        if work is not None:  # deltas this batch has not written yet
            for (channel, sku), delta in work.channel_deltas.items():
                if sku in found:
                    found[sku][channel] += delta
        cache.update({sku: dict(held) for sku, held in found.items()})
    return {sku: cache[sku] for sku in skus}


async def move_channel_holds(session: AsyncSession, moves: Iterable[tuple[str, str, int]]) -> None:
    """Add each (channel, sku, units) to what the channel holds; units may be negative."""
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for channel, sku, units in moves:
        deltas[(channel, sku)] += units
    if not deltas:
        return
    work = await batch_work(session)
    if work is not None:
        for (channel, sku), delta in deltas.items():
            work.channel_deltas[(channel, sku)] = work.channel_deltas.get((channel, sku), 0) + delta
            held = work.channel_held.get(sku)
            if held is not None:
                held[channel] = held.get(channel, 0) + delta
        return
    params = [
        {"channel": channel, "sku": sku, "quantity": delta}
        for (channel, sku), delta in sorted(deltas.items())
    ]
    dialect = session.get_bind().dialect.name
    await (await session.connection()).execute(channel_hold_upsert(dialect), params)


async def get_rule(session: AsyncSession, channel_id: str, sku: str) -> models.ChannelRule | None:
    return await session.get(models.ChannelRule, (channel_id, sku))


async def rules_of_channel(session: AsyncSession, channel_id: str) -> Sequence[models.ChannelRule]:
    """A channel's rules, its default first, then by SKU."""
    query = orm_select(_RULE).where(_RULE.channel_id == channel_id).order_by(col(_RULE.sku))
    return (await session.exec(query)).all()


async def channel_holds_beside_ledger(
    session: AsyncSession,
) -> dict[tuple[str, str], tuple[int, int]]:
    """(reserved units by the ledger, units the hold row says) per (channel, sku): the reserved
    movements summed by the channel of the reservation each names (a diagnostic: it reads the
    whole ledger)."""
    await flush(session)
    connection = await session.connection()
    ledger = await connection.execute(
        select(RESERVATION.c.channel, MOVEMENT.c.sku, func.sum(MOVEMENT.c.quantity))
        .join(RESERVATION, RESERVATION.c.reservation_id == MOVEMENT.c.reference)
        .where(MOVEMENT.c.state == RESERVED)
        .group_by(RESERVATION.c.channel, MOVEMENT.c.sku)
    )
    found: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for channel, sku, units in ledger.all():
        found[(channel, sku)][0] = int(units)
    holds = await connection.execute(
        select(CHANNEL_HOLD.c.channel, CHANNEL_HOLD.c.sku, CHANNEL_HOLD.c.quantity)
    )
    for channel, sku, units in holds.all():
        found[(channel, sku)][1] = units
    return {key: (by_ledger, held) for key, (by_ledger, held) in found.items()}


async def known_channels(session: AsyncSession) -> list[str]:
    """The channels the order service has announced, by id."""
    query = orm_select(models.KnownChannel.channel_id).order_by(col(models.KnownChannel.channel_id))
    return list((await session.exec(query)).all())


async def get_channel(session: AsyncSession, channel_id: str) -> models.KnownChannel | None:
    return await session.get(models.KnownChannel, channel_id)
