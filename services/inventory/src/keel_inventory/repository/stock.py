"""Stock queries: items, locations, the ledger, balances and their locks.

The reservation paths run prebuilt Core statements on the session's connection: building an ORM
statement per call costs several times the database round trip itself.
"""

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory import models
from keel_inventory.domain import RESERVED, SELLABLE, Stock, available
from keel_inventory.repository.batch import (
    BALANCE,
    MOVEMENT,
    balance_upsert,
    batch_work,
    current_work,
    feed_upsert,
    flush,
)
from keel_kit.db import upsert_insert

# Key of the PostgreSQL advisory lock that serialises transactions changing stock ("kinv").
STOCK_CHANGES_LOCK_ID = 0x6B696E76

_SERIALISE = select(func.pg_advisory_xact_lock(STOCK_CHANGES_LOCK_ID))
_LOCK_BALANCES = (
    select(BALANCE.c.sku, BALANCE.c.location_id, BALANCE.c.state, BALANCE.c.quantity)
    .where(
        BALANCE.c.sku.in_(bindparam("skus", expanding=True)),
        BALANCE.c.state.in_((SELLABLE, RESERVED)),
    )
    .order_by(BALANCE.c.sku, BALANCE.c.location_id, BALANCE.c.state)
    .with_for_update()
)

Locked = dict[str, dict[str, list[int]]]  # sku -> location -> [sellable, reserved]
_TRACKED = {SELLABLE: 0, RESERVED: 1}


async def lock_stock_changes(session: AsyncSession) -> None:
    """Serialise, on PostgreSQL, the transactions that change reserved or sellable stock.

    Row locks alone cannot keep replicas from deadlocking: a consumer's batch is one
    transaction running many messages, each locking its own SKUs, so two batches meet in any
    order. This transaction-scoped lock orders whole batches instead; the row locks taken under
    it still guard the balances against any writer that does not take it. SQLite needs neither:
    its writers are serialised at BEGIN IMMEDIATE.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    work = await batch_work(session)
    if work is not None and work.serialised:
        return
    await (await session.connection()).execute(_SERIALISE)
    if work is not None:
        work.serialised = True


async def lock_stock(session: AsyncSession, skus: Collection[str]) -> Stock:
    """Lock the sellable and reserved balances of `skus` and return what is free per location."""
    levels = await lock_stock_levels(session, skus)
    return {
        sku: {loc: available(s, r) for loc, (s, r) in levels.get(sku, {}).items()} for sku in skus
    }


async def lock_stock_levels(session: AsyncSession, skus: Collection[str]) -> Locked:
    """Lock the sellable and reserved balances of `skus` and return them per location, as
    [sellable, reserved] (read only: the batch keeps them current).

    Rows are locked in (sku, location, state) order. A reserved row must exist to be locked:
    receipts create it beside the sellable row, and a location that lacks one (older data) gets
    a zero row here before the rows are locked again. Rows this batch already holds are not
    read again.
    """
    work = await batch_work(session)
    known: Locked = work.locked if work is not None else {}
    wanted = sorted(sku for sku in set(skus) if sku not in known)
    if wanted:
        connection = await session.connection()
        found = await _lock_balances(connection, wanted)
        if any(pair[1] is None for by_location in found.values() for pair in by_location.values()):
            await ensure_reserved_rows(session, wanted)
            found = await _lock_balances(connection, wanted)
        for by_location in found.values():
            for pair in by_location.values():
                pair[1] = pair[1] or 0
        known.update(found)
    return {sku: known.get(sku, {}) for sku in skus}


async def _lock_balances(connection: AsyncConnection, skus: Sequence[str]) -> Locked:
    rows = await connection.execute(_LOCK_BALANCES, {"skus": skus})
    found: dict[str, dict[str, list[Any]]] = {sku: {} for sku in skus}
    for sku, location_id, state, quantity in rows.all():
        pair = found[sku].setdefault(location_id, [0, None])
        pair[_TRACKED[state]] = quantity
    return found


async def ensure_reserved_rows(session: AsyncSession, skus: Collection[str]) -> None:
    """Give every sellable balance of `skus` a reserved partner (zero if new) to lock."""
    statement = upsert_insert(session, BALANCE).from_select(
        ["sku", "location_id", "state", "quantity"],
        select(BALANCE.c.sku, BALANCE.c.location_id, literal(RESERVED), literal(0)).where(
            BALANCE.c.sku.in_(list(skus)), BALANCE.c.state == SELLABLE
        ),
    )
    await (await session.connection()).execute(statement.on_conflict_do_nothing())


async def add_movements(session: AsyncSession, movements: Sequence[dict[str, Any]]) -> None:
    """Append movements (dicts of every StockMovement column) and move their balances.

    In a batch both are written when it commits, and what it knows of locked SKUs moves now.
    """
    if not movements:
        return
    work = await batch_work(session)
    deltas = work.deltas if work is not None else {}
    for m in movements:
        key = (m["sku"], m["location_id"], m["state"])
        deltas[key] = deltas.get(key, 0) + m["quantity"]
        if work is not None and key[2] in _TRACKED and key[0] in work.locked:
            # A location the SKU had no row at when it was locked gets one now: nobody else
            # could have made it meanwhile (the stock-changes lock is held).
            pair = work.locked[key[0]].setdefault(key[1], [0, 0])
            pair[_TRACKED[key[2]]] += m["quantity"]
    if work is not None:
        work.movements.extend(movements)
        work.changed_skus.update(m["sku"] for m in movements)
        return
    connection = await session.connection()
    await connection.execute(insert(MOVEMENT), list(movements))
    await mark_changed(session, {m["sku"] for m in movements})
    await connection.execute(
        balance_upsert(session.get_bind().dialect.name),
        [
            {"sku": sku, "location_id": loc, "state": state, "quantity": delta}
            for (sku, loc, state), delta in sorted(deltas.items())
        ],
    )


async def add_movement(session: AsyncSession, movement: models.StockMovement) -> None:
    """Append one movement and move its balance (a receipt: one row, no batch to speak of)."""
    await flush(session)
    work = await batch_work(session)
    if work is not None:
        work.locked.pop(movement.sku, None)  # read it afresh when next locked
    session.add(movement)
    await mark_changed(session, [movement.sku])
    await (await session.connection()).execute(
        balance_upsert(session.get_bind().dialect.name),
        {
            "sku": movement.sku,
            "location_id": movement.location_id,
            "state": movement.state,
            "quantity": movement.quantity,
        },
    )


async def mark_changed(session: AsyncSession, skus: Collection[str]) -> None:
    """Mark what may be sold of `skus` changed, for the availability feed to publish."""
    work = await batch_work(session)
    if work is not None:
        work.changed_skus.update(skus)
        return
    if skus:
        dialect = session.get_bind().dialect.name
        rows = [{"sku": sku} for sku in sorted(skus)]
        await (await session.connection()).execute(feed_upsert(dialect), rows)


async def location_parents(session: AsyncSession) -> dict[str, str | None]:
    """Every location's parent (None at the top of its tree)."""
    rows = await session.exec(orm_select(models.Location.location_id, models.Location.parent_id))
    return {location_id: parent for location_id, parent in rows.all()}


async def get_item(session: AsyncSession, sku: str) -> models.Item | None:
    """The item, from the batch's memory when its shipments read it there."""
    work = current_work(session)
    if work is not None and sku in work.items:
        return work.items[sku]
    return await session.get(models.Item, sku)


async def get_location(session: AsyncSession, location_id: str) -> models.Location | None:
    return await session.get(models.Location, location_id)


async def balances_for_sku(session: AsyncSession, sku: str) -> Sequence[models.StockBalance]:
    await flush(session)
    rows = await session.exec(
        orm_select(models.StockBalance)
        .where(models.StockBalance.sku == sku)
        .order_by(col(models.StockBalance.location_id), col(models.StockBalance.state))
    )
    return rows.all()


async def movements(
    session: AsyncSession, *, sku: str | None, after: str | None, limit: int
) -> Sequence[models.StockMovement]:
    """Movements in id order (UUIDv7 ids sort by time), paged by the last id seen."""
    await flush(session)
    query = (
        orm_select(models.StockMovement)
        .order_by(col(models.StockMovement.movement_id))
        .limit(limit)
    )
    if sku is not None:
        query = query.where(models.StockMovement.sku == sku)
    if after is not None:
        query = query.where(col(models.StockMovement.movement_id) > after)
    return (await session.exec(query)).all()


def ledger_beside_balances() -> Select[str, str, str, int, int]:
    """(sku, location, state, sum of movements, balance) per key: the ledger and the balances
    side by side, for one statement to read both from one snapshot."""
    zero = literal(0)
    both = union_all(
        select(
            MOVEMENT.c.sku,
            MOVEMENT.c.location_id,
            MOVEMENT.c.state,
            MOVEMENT.c.quantity.label("ledger"),
            zero.label("balance"),
        ),
        select(BALANCE.c.sku, BALANCE.c.location_id, BALANCE.c.state, zero, BALANCE.c.quantity),
    ).subquery()
    return select(
        both.c.sku,
        both.c.location_id,
        both.c.state,
        func.sum(both.c.ledger).label("ledger"),
        func.sum(both.c.balance).label("balance"),
    ).group_by(both.c.sku, both.c.location_id, both.c.state)


async def ledger_and_balances(session: AsyncSession) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(sum of movements, balance) per (sku, location, state), read in one statement so both
    come from one snapshot even while stock moves."""
    await flush(session)
    rows = await (await session.connection()).execute(ledger_beside_balances())
    return {
        (sku, loc, state): (int(ledger or 0), int(balance or 0))
        for sku, loc, state, ledger, balance in rows.all()
    }
