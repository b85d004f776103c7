"""Inventory rules without I/O: stock states and how a reservation picks its locations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from keel_inventory.channel_rules import ChannelBook

SELLABLE = "sellable"
RESERVED = "reserved"
# Returned units wait here, not sellable, until inspected (DESIGN §3).
PENDING_INSPECTION = "pending_inspection"
# Not sellable either: units to refurbish, and units too damaged to sell.
QUARANTINE = "quarantine"
DAMAGED = "damaged"
# Units shipped between locations and not yet received, kept at the destination.
IN_TRANSIT = "in_transit"

# Where an inspection disposition sends units out of pending_inspection; a write-off sends them
# out of stock (no state). Refurbishment waits in quarantine at the same location: a
# refurbishment location, and the transfer there, can come later.
DISPOSITION_STATES: dict[str, str | None] = {
    "restock": SELLABLE,
    "refurbish": QUARANTINE,
    "damaged": DAMAGED,
    "write_off": None,
}
# What `stock.returned` says of written-off units: they are no longer in any state.
WRITTEN_OFF = "written_off"

# The states whose units are valued stock, as finance's reconciliation counts them: sellable
# (its reserved units included: they are sellable units set aside), the units inspection kept,
# in quarantine or damaged, and units moving between locations (still ours, at the same cost);
# not units pending inspection, on order or written off.
VALUED_STATES = (SELLABLE, QUARANTINE, DAMAGED, IN_TRANSIT)

# Reservation statuses. Only a held reservation still holds stock.
HELD = "held"
RELEASED = "released"
EXPIRED = "expired"
COMMITTED = "committed"

# What each SKU has free per location: {sku: {location_id: units}}.
Stock = dict[str, dict[str, int]]


@dataclass(frozen=True, slots=True)
class Pick:
    """Units of one SKU taken from one location for a reservation."""

    location_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class Allocation:
    """The outcome for one request: the picks if every line is covered, else what is missing."""

    picks: tuple[Pick, ...] = ()
    short: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.short


def merge_lines(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """One quantity per SKU (a request may name a SKU twice), in order of first mention."""
    merged: dict[str, int] = {}
    for sku, quantity in lines:
        merged[sku] = merged.get(sku, 0) + quantity
    return merged


def on_order(ordered: int, received: int) -> int:
    """Units of a purchase order line still to come; an over-receipt leaves none, not fewer."""
    return max(0, ordered - received)


def valued(totals: Mapping[str, int]) -> int:
    """The valued units among a SKU's units per state (see `VALUED_STATES`)."""
    return sum(totals.get(state, 0) for state in VALUED_STATES)


def available(sellable: int, reserved: int) -> int:
    """Free units at one location; never negative even if sellable later fell below reserved."""
    return max(0, sellable - reserved)


def allocate(
    lines: Mapping[str, int],
    stock: Mapping[str, Mapping[str, int]],
    limits: Mapping[str, int] | None = None,
) -> Allocation:
    """Cover every line or nothing, taking no more of a SKU than its `limits` entry (what the
    order's channel may still sell of it, where a channel rule applies).

    One location that can ship the whole order is preferred (one parcel); among several, the one
    with the most of the order's SKUs free, then the lowest location id. Otherwise each line is
    taken greedily from the locations with the most of it free (ties by location id), so a line
    stays whole where it can and is split only when no single location holds it.
    """
    limits = limits or {}
    short = {
        sku: need - total
        for sku, need in lines.items()
        if (total := min(free_units(stock, sku), limits.get(sku, need))) < need
    }
    if short:
        return Allocation(short=short)
    single = _single_location(lines, stock)
    if single is not None:
        return Allocation(picks=tuple(Pick(single, sku, n) for sku, n in lines.items()))
    picks: list[Pick] = []
    for sku, need in lines.items():
        free = stock.get(sku, {})
        for location_id in sorted(free, key=lambda loc: (-free[loc], loc)):
            if need == 0:
                break
            take = min(need, free[location_id])
            if take > 0:
                picks.append(Pick(location_id, sku, take))
                need -= take
    return Allocation(picks=tuple(picks))


def free_units(stock: Mapping[str, Mapping[str, int]], sku: str) -> int:
    """A SKU's free units over every location."""
    return sum(max(0, n) for n in stock.get(sku, {}).values())


def _single_location(
    lines: Mapping[str, int], stock: Mapping[str, Mapping[str, int]]
) -> str | None:
    candidates: set[str] | None = None
    for sku, need in lines.items():
        covering = {loc for loc, n in stock.get(sku, {}).items() if n >= need}
        candidates = covering if candidates is None else candidates & covering
    if not candidates:
        return None

    def preference(loc: str) -> tuple[int, str]:
        return (-sum(stock[sku][loc] for sku in lines), loc)

    return min(candidates, key=preference)


def take(stock: Stock, picks: Iterable[Pick]) -> None:
    """Remove what was picked from `stock`, so the next request sees only what is left."""
    for pick in picks:
        stock[pick.sku][pick.location_id] -= pick.quantity


def allocate_in_turn(
    requests: Sequence[tuple[str, Mapping[str, int]]], stock: Stock, book: ChannelBook
) -> list[Allocation]:
    """Serve (channel, lines) requests in the given order (oldest first) from one pool of
    stock, each within what its channel may still sell (`book`).

    An earlier request gets first pick; a later one is served only from what the earlier ones
    could not use. A request that cannot be covered takes nothing (all or nothing), so it never
    blocks a later one that fits in what is left.
    """
    results = []
    for channel, lines in requests:
        free = {sku: free_units(stock, sku) for sku in lines}
        result = allocate(lines, stock, book.limits(channel, lines, free))
        if result.ok:
            take(stock, result.picks)
            book.take(channel, lines)
        results.append(result)
    return results
