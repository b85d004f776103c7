"""Available to promise: the earliest date a quantity of a SKU can be promised, how sure that
date is, and the stock or inbound lines it counts on.

Stock the channel may sell now is promised today, for certain. Beyond it, the purchase-order
lines still to come count in the order of their expected dates, after the units the backorder
queue already waits for (those orders are served first, oldest first). A date that rests on
inbound goods is as sure as the least punctual supplier it counts on: its measured on-time
rate, or even odds for a supplier never measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from keel_inventory import channel_allocation, domain, repository
from keel_inventory.channel_rules import ChannelRule
from keel_inventory.context import Work
from keel_inventory.schemas import ChannelAvailability, PromisePublic, PromiseSource
from keel_kit.problems import NotFound

CERTAIN = Decimal(1)
RATE_PLACES = Decimal("0.0001")  # as procurement measures on-time rates
UNMEASURED = Decimal("0.5")  # a supplier with no measured order yet


@dataclass(frozen=True)
class Inbound:
    """Units of one purchase-order line still to come, and its supplier's punctuality."""

    purchase_order_id: str
    location_id: str
    expected_date: date
    units: int
    supplier_id: str | None
    on_time_rate: Decimal | None

    @property
    def confidence(self) -> Decimal:
        return self.on_time_rate if self.on_time_rate is not None else UNMEASURED


@dataclass(frozen=True)
class Promise:
    date: date | None  # None: what is in stock and on order does not cover the quantity
    confidence: Decimal
    from_stock: int
    inbound: list[tuple[Inbound, int]] = field(default_factory=list)  # each line, units taken
    short: int = 0


def promise(
    quantity: int,
    *,
    today: date,
    on_hand: int,
    queued: int,
    inbound: Iterable[Inbound],
    cap: Callable[[int], int] | None = None,
) -> Promise:
    """The earliest date `quantity` units can be promised: `on_hand` (what may be sold now)
    first, then the `inbound` lines by expected date, each after the `queued` units waiting
    ahead have taken their share of it. `cap(arrived)`, for a capped channel, is the most it may
    hold beyond what it holds now once `arrived` inbound units are in: its cap grows with the
    sellable units, so later goods may let it take what earlier ones could not."""
    from_stock = min(quantity, max(0, on_hand))
    need = quantity - from_stock
    if need == 0:
        return Promise(today, CERTAIN, from_stock)
    ahead, confidence, taken, arrived = queued, CERTAIN, [], 0
    for line in sorted(inbound, key=lambda line: (line.expected_date, line.purchase_order_id)):
        served_ahead = min(ahead, line.units)
        ahead -= served_ahead
        arrived += line.units
        take = min(need, line.units - served_ahead)
        if cap is not None:
            take = min(take, cap(arrived) - (quantity - need))
        if take <= 0:
            continue
        taken.append((line, take))
        need -= take
        confidence = min(confidence, line.confidence)
        if need == 0:
            return Promise(max(today, line.expected_date), confidence, from_stock, taken)
    return Promise(None, Decimal(0), from_stock, taken, short=need)


async def promise_for(*, uow: Work, sku: str, quantity: int, channel: str | None) -> PromisePublic:
    """The promise for `quantity` of `sku` (for `channel`, within its allocation rule), the
    whole backorder queue waiting ahead of it."""
    session = uow.session
    if await repository.get_item(session, sku) is None:
        raise NotFound(f"unknown sku {sku}")
    sellable, free = (await repository.stock_for_sale(session, [sku]))[sku]
    cap = None
    if channel is not None:
        for_channel = await channel_allocation.availability(
            uow=uow, channel_id=channel, sku=sku, sellable=sellable, free=free
        )
        free = for_channel.available_to_sell
        cap = _cap_after_arrivals(for_channel, sellable)
    queued = await repository.queued_units(session, sku)
    inbound = await _inbound(uow, sku)
    found = promise(
        quantity, today=_today(uow), on_hand=free, queued=queued, inbound=inbound, cap=cap
    )
    return _public(sku, quantity, channel, found)


def _cap_after_arrivals(
    for_channel: ChannelAvailability, sellable: int
) -> Callable[[int], int] | None:
    """How much more than it holds a capped channel may hold once `arrived` more units are
    sellable; None for a channel without a cap."""
    rule = for_channel.rule
    if rule is None:
        return None
    limits = ChannelRule(cap_percent=rule.cap_percent, cap_units=rule.cap_units)
    if not limits.capped:
        return None

    def room(arrived: int) -> int:
        return (limits.cap(sellable + arrived) or 0) - for_channel.held

    return room


async def backorder_promise(
    *, uow: Work, lines: Mapping[str, int], free: Mapping[str, int]
) -> date | None:
    """When an order just queued for `lines` can expect them all: each SKU's date with the
    rest of the queue ahead of it (its own units left out) and `free` units on hand; None
    when inbound goods do not cover one of them."""
    dates = []
    for sku, quantity in lines.items():
        queued_ahead = max(0, await repository.queued_units(uow.session, sku) - quantity)
        found = promise(
            quantity,
            today=_today(uow),
            on_hand=free.get(sku, 0),
            queued=queued_ahead,
            inbound=await _inbound(uow, sku),
        )
        if found.date is None:
            return None
        dates.append(found.date)
    return max(dates, default=None)


async def _inbound(uow: Work, sku: str) -> list[Inbound]:
    """The SKU's purchase-order lines still to come, with their suppliers' punctuality."""
    session = uow.session
    lines = [
        line
        for line in await repository.open_lines_for_sku(session, sku)
        if domain.on_order(line.ordered, line.received)
    ]
    ratings = await repository.supplier_ratings(
        session, {line.supplier_id for line in lines if line.supplier_id}
    )
    return [
        Inbound(
            purchase_order_id=line.purchase_order_id,
            location_id=line.location_id,
            expected_date=line.expected_date,
            units=domain.on_order(line.ordered, line.received),
            supplier_id=line.supplier_id,
            on_time_rate=ratings.get(line.supplier_id) if line.supplier_id else None,
        )
        for line in lines
    ]


def _today(uow: Work) -> date:
    return uow.service.clock().date()


def _public(sku: str, quantity: int, channel: str | None, found: Promise) -> PromisePublic:
    sources = [PromiseSource(kind="stock", quantity=found.from_stock)] if found.from_stock else []
    sources += [
        PromiseSource(
            kind="purchase_order",
            quantity=units,
            purchase_order_id=line.purchase_order_id,
            location_id=line.location_id,
            expected_date=line.expected_date,
            supplier_id=line.supplier_id,
            on_time_rate=line.on_time_rate,
        )
        for line, units in found.inbound
    ]
    return PromisePublic(
        sku=sku,
        quantity=quantity,
        channel=channel,
        date=found.date,
        confidence=found.confidence.quantize(RATE_PLACES),
        sources=sources,
        short=found.short,
    )
