"""Reservation use cases: hold stock for orders, release it, expire it, serve the backorder queue.

No oversell, however many replicas run: every use case here first takes the stock-changes
lock (PostgreSQL; see `repository.lock_stock_changes`), then locks the balance rows it reads,
and computes what is free only from those locked rows. Like every use case, they add to the
caller's transaction and never commit.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope, new_event_id
from keel_contracts.commands import ReleaseStock, ReserveStock
from keel_contracts.events import (
    Allocation,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from keel_contracts.times import as_utc
from keel_contracts.values import Line
from keel_inventory import domain, promises, repository
from keel_inventory.channel_rules import ChannelBook, effective_rules
from keel_inventory.context import Work
from keel_inventory.domain import COMMITTED, EXPIRED, HELD, RELEASED, RESERVED, Pick
from keel_inventory.models import CHANNEL_LENGTH, ORDER_ID_LENGTH
from keel_inventory.repository.reservations import QueuePosition
from keel_kit.handlers import PermanentError

# Queued requests are examined this many at a time when stock comes back.
BACKORDER_PAGE = 500

# `StockReleased.reservation_id` when a queued request is withdrawn: it never held stock.
NO_RESERVATION = ""


@dataclass(frozen=True)
class _Hold:
    order_id: str
    channel: str
    picks: tuple[Pick, ...]
    reservation_id: str | None  # set when a released or expired reservation holds again
    correlation_id: str | None = None  # None: inherit the cause's


async def reserve(*, uow: Work, cmd: ReserveStock, cause: Envelope | None) -> None:
    """Hold every line of the order or nothing, and answer on inventory.reservation.v1.

    A repeated request for an order that already holds stock repeats the first answer. One
    that cannot be covered fails; with `backorder` it also joins the queue (once).
    """
    if len(cmd.order_id) > ORDER_ID_LENGTH or len(cmd.channel) > CHANNEL_LENGTH:
        # Refused here, not by the database when the batch commits, so it is dead-lettered
        # alone instead of failing the batch it came in.
        raise PermanentError(
            f"order id or channel too long (limits {ORDER_ID_LENGTH}, {CHANNEL_LENGTH})"
        )
    session, outbox, now = uow.session, uow.outbox, uow.service.clock()
    await repository.lock_stock_changes(session)
    known = await repository.order_state_unless_batched(session, cmd.order_id)
    if known is not None and known.status in (HELD, COMMITTED):
        await _announce_held(uow, cmd.order_id, cause)
        return
    lines = domain.merge_lines((line.sku, line.quantity) for line in cmd.lines)
    stock, book = await _lock_for_channels(session, lines)
    free = {sku: domain.free_units(stock, sku) for sku in lines}
    result = domain.allocate(lines, stock, book.limits(cmd.channel, lines, free))
    if result.ok:
        previous = None
        if known is not None and known.status is not None:  # released or expired: hold again
            rows = await repository.reservations_for_orders(session, [cmd.order_id])
            previous = rows[cmd.order_id].reservation_id
        hold = _Hold(cmd.order_id, cmd.channel, result.picks, previous)
        await _hold(uow, [hold], now=now, cause=cause)
        if known is not None and known.backorder_id is not None:
            await repository.remove_backorders(session, [known.backorder_id])
        return
    if known is None:  # a failure must know whether the order holds stock or waits already
        known = await repository.order_state(session, cmd.order_id)
        if known.status in (HELD, COMMITTED):
            await _announce_held(uow, cmd.order_id, cause)
            return
    if cmd.backorder and known.backorder_id is None:
        await repository.queue_backorder(
            session, order_id=cmd.order_id, channel=cmd.channel, lines=lines, now=now
        )
    waiting = cmd.backorder or known.backorder_id is not None
    promise_date = None
    if waiting:  # the order is told when the goods on order should cover it
        promise_date = await promises.backorder_promise(uow=uow, lines=lines, free=free)
    outbox.add(
        session,
        StockReservationFailed(
            order_id=cmd.order_id,
            short_lines=tuple(Line(sku=sku, quantity=n) for sku, n in result.short.items()),
            reason="insufficient stock",
            waiting=waiting,
            promise_date=promise_date,
        ),
        key=cmd.order_id,
        causation=cause,
    )


async def lock_for_reservations(session: AsyncSession, commands: Sequence[ReserveStock]) -> None:
    """Lock the stock of every SKU a batch's reservations ask for, and read the SKUs' channel
    rules, in one query each instead of one per message: `reserve` finds them in the batch's
    locked snapshot."""
    skus = {line.sku for cmd in commands for line in cmd.lines}
    if not skus:
        return
    await repository.lock_stock_changes(session)
    await _lock_for_channels(session, skus)


async def release(*, uow: Work, cmd: ReleaseStock, cause: Envelope | None) -> None:
    """Give back what the order holds, or take it out of the backorder queue.

    A withdrawn queue entry is answered with `reservation_id` "" (it never held stock). An
    order with nothing held or queued (already released, expired, shipped, or unknown) gets
    no answer: a repeated release changes nothing and says nothing.
    """
    session, outbox = uow.session, uow.outbox
    await repository.lock_stock_changes(session)
    known = await repository.order_state(session, cmd.order_id)
    if known.status == HELD:
        rows = await repository.reservations_for_orders(session, [cmd.order_id], lock=True)
        held = [row for row in rows.values() if row.status == HELD]
        await _release(
            uow, held, status=RELEASED, reason=cmd.reason, cause=cause, now=uow.service.clock()
        )
    elif known.backorder_id is not None:
        await repository.remove_backorders(session, [known.backorder_id])
        outbox.add(
            session,
            StockReleased(order_id=cmd.order_id, reservation_id=NO_RESERVATION, reason=cmd.reason),
            key=cmd.order_id,
            causation=cause,
        )


async def expire_reservations(uow: Work) -> None:
    """The periodic job: release one batch of the reservations past their expiry."""
    await expire_due(uow=uow, limit=uow.service.expiry_batch_size)


async def expire_due(*, uow: Work, limit: int) -> int:
    """Release up to `limit` held reservations past their expiry; return how many."""
    now = uow.service.clock()
    await repository.lock_stock_changes(uow.session)
    due = await repository.due_reservations(uow.session, now, limit)
    await _release(uow, due, status=EXPIRED, reason="expired", cause=None, now=now)
    return len(due)


async def serve_backorders(*, uow: Work, skus: Collection[str], cause: Envelope | None) -> None:
    """Stock of `skus` came back: hold it for queued requests that want it, oldest first.

    Each page of the queue is allocated in turn from one locked snapshot, so an older request
    gets first pick and a younger one only what the older ones could not use. Paging stops when
    the queue ends or none of `skus` is free any more.
    """
    await _serve_backorders(uow, skus, cause=cause, now=uow.service.clock())


async def _serve_backorders(
    uow: Work, skus: Collection[str], *, cause: Envelope | None, now: datetime
) -> None:
    session = uow.session
    after: QueuePosition | None = None
    while True:
        queued = await repository.queued_for_skus(session, skus, after=after, limit=BACKORDER_PAGE)
        if not queued:
            return
        wanted = {sku for q in queued for sku in q.lines}
        stock, book = await _lock_for_channels(session, wanted)
        results = domain.allocate_in_turn([(q.channel, q.lines) for q in queued], stock, book)
        served = [(q, r) for q, r in zip(queued, results, strict=True) if r.ok]
        if served:
            known = await repository.reservations_for_orders(
                session, [q.order_id for q, _ in served]
            )
            holds = [
                _Hold(
                    q.order_id,
                    q.channel,
                    r.picks,
                    known[q.order_id].reservation_id if q.order_id in known else None,
                    correlation_id=q.order_id,
                )
                for q, r in served
            ]
            await _hold(uow, holds, now=now, cause=cause)
            await repository.remove_backorders(session, [q.backorder_id for q, _ in served])
        nothing_left = not any(n > 0 for sku in skus for n in stock.get(sku, {}).values())
        if len(queued) < BACKORDER_PAGE or nothing_left:
            return
        after = (queued[-1].priority, queued[-1].backorder_id)


async def _hold(
    uow: Work, holds: Sequence[_Hold], *, now: datetime, cause: Envelope | None
) -> None:
    """Write the reservations, their allocations and ledger movements, and announce them."""
    session, outbox = uow.session, uow.outbox
    expires_at = now + uow.service.reservation_ttl
    new: list[dict[str, Any]] = []
    again: list[dict[str, Any]] = []
    allocations: list[dict[str, Any]] = []
    movements: list[dict[str, Any]] = []
    for hold in holds:
        reservation_id = hold.reservation_id or str(new_event_id())
        (again if hold.reservation_id else new).append(
            {
                "reservation_id": reservation_id,
                "order_id": hold.order_id,
                "channel": hold.channel,
                "status": HELD,
                "expires_at": expires_at,
                "created_at": now,
            }
        )
        for pick in hold.picks:
            allocations.append(
                {
                    "reservation_id": reservation_id,
                    "sku": pick.sku,
                    "location_id": pick.location_id,
                    "quantity": pick.quantity,
                }
            )
            movements.append(
                _movement(
                    pick.sku, pick.location_id, pick.quantity, "reservation", reservation_id, now
                )
            )
        outbox.add(
            session,
            StockReserved(
                order_id=hold.order_id,
                reservation_id=reservation_id,
                allocations=tuple(
                    Allocation(location_id=p.location_id, sku=p.sku, quantity=p.quantity)
                    for p in hold.picks
                ),
                expires_at=expires_at,
            ),
            key=hold.order_id,
            correlation_id=hold.correlation_id,
            causation=cause,
        )
    await repository.insert_reservations(session, new)
    await repository.rehold_reservations(session, again)
    await repository.insert_allocations(session, allocations)
    await repository.add_movements(session, movements)
    await repository.move_channel_holds(
        session, ((hold.channel, p.sku, p.quantity) for hold in holds for p in hold.picks)
    )


async def _release(
    uow: Work,
    held: Sequence[repository.HeldRow],
    *,
    status: str,
    reason: str,
    cause: Envelope | None,
    now: datetime,
) -> None:
    """Move held stock back (kind "release" or "expiry"), mark the reservations, announce it,
    and offer the freed stock to the backorder queue."""
    if not held:
        return
    session, outbox = uow.session, uow.outbox
    kind = "expiry" if status == EXPIRED else "release"
    allocations = await repository.allocations_of(session, [h.reservation_id for h in held])
    skus = sorted({sku for lines in allocations.values() for _, sku, _ in lines})
    await repository.lock_stock(session, skus)
    await repository.add_movements(
        session,
        [
            _movement(sku, location_id, -quantity, kind, reservation_id, now)
            for reservation_id, lines in allocations.items()
            for location_id, sku, quantity in lines
        ],
    )
    await repository.set_status(session, [h.reservation_id for h in held], status)
    await repository.move_channel_holds(
        session,
        (
            (h.channel, sku, -quantity)
            for h in held
            for _, sku, quantity in allocations[h.reservation_id]
        ),
    )
    for h in held:
        outbox.add(
            session,
            StockReleased(
                order_id=h.order_id,
                reservation_id=h.reservation_id,
                reason=reason,
                expired=status == EXPIRED,
            ),
            key=h.order_id,
            causation=cause,
        )
    await _serve_backorders(uow, skus, cause=cause, now=now)


async def _announce_held(uow: Work, order_id: str, cause: Envelope | None) -> None:
    session, outbox = uow.session, uow.outbox
    held = (await repository.reservations_for_orders(session, [order_id]))[order_id]
    lines = (await repository.allocations_of(session, [held.reservation_id]))[held.reservation_id]
    outbox.add(
        session,
        StockReserved(
            order_id=order_id,
            reservation_id=held.reservation_id,
            allocations=tuple(
                Allocation(location_id=loc, sku=sku, quantity=n) for loc, sku, n in lines
            ),
            expires_at=as_utc(held.expires_at),
        ),
        key=order_id,
        causation=cause,
    )


async def _lock_for_channels(
    session: AsyncSession, skus: Collection[str]
) -> tuple[domain.Stock, ChannelBook]:
    """Lock the SKUs' stock and read what channel rules need of them: the free units per
    location, and the book of sellable units, rules and channel holds (empty when no rule
    touches these SKUs, the common case, which then costs one cached query)."""
    levels = await repository.lock_stock_levels(session, skus)
    stock = {
        sku: {loc: domain.available(s, r) for loc, (s, r) in levels[sku].items()} for sku in skus
    }
    rows = await repository.rules_for(session, skus)
    applying = {sku: rules for sku in skus if (rules := effective_rules(rows[sku], sku))}
    if not applying:
        return stock, ChannelBook()
    held = await repository.channel_holds(session, applying)
    return stock, ChannelBook(
        sellable={sku: sum(s for s, _ in levels[sku].values()) for sku in applying},
        rules=applying,
        held={sku: dict(by_channel) for sku, by_channel in held.items()},  # the book's own
    )


def _movement(
    sku: str, location_id: str, quantity: int, kind: str, reservation_id: str, now: datetime
) -> dict[str, Any]:
    """A reserved-state ledger row. Holding stock moves no value, so its unit cost is zero."""
    return {
        "movement_id": str(new_event_id()),
        "sku": sku,
        "location_id": location_id,
        "state": RESERVED,
        "quantity": quantity,
        "kind": kind,
        "unit_cost": Decimal(0),
        "reference": reservation_id,
        "created_at": now,
    }
