"""`keel bench --hot-sku`: every order for one SKU at one location, offered as fast as the
intake takes them, against less stock than they ask for.

This is where a reservation race would oversell: many orders at once for the same last units.
The measure is how fast inventory reserves (`stock.reserved` per second) and whether any unit
was promised twice: units reserved or shipped beyond what was received, read two ways that do
not depend on each other, inventory's own balances at the end and the reservation events on
Kafka. Orders beyond the stock are backordered or rejected, as they should be; they are counted
apart, and the drain does not wait for shipments that cannot come.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from keel_cli import stack
from keel_cli.bench_clock import RESERVED, EventClock
from keel_cli.bench_load import Run, inventory_people, wait_replicated
from keel_cli.demo import catalog
from keel_cli.people import OPERATIONS

# Received once, at one warehouse. At saturation the intake takes a few hundred orders/s, so
# a run of 30 s offers several times this: the stock runs out early and the rest of the run
# races for nothing, which is the point.
UNITS = 2_000
LOCATION = catalog.WAREHOUSES[0][0]


async def seed(state_dir: Path | None = None) -> catalog.Item:
    """A new SKU with `UNITS` units at `LOCATION` alone, known to every service that keeps
    items before the first order names it."""
    item = catalog.Item(
        sku=f"HOT{int(time.time()) % 100000:05d}",
        unit_cost=Decimal("5.00"),
        price=Decimal("12.00"),
        scarce=True,
        index=1,
    )
    async with inventory_people(state_dir) as (registering, receiving):
        await catalog.register_warehouses(registering)
        await catalog.register_item(registering, item, name=f"Bench hot item {item.sku}")
        await catalog.receive(
            receiving,
            item,
            LOCATION,
            UNITS,
            reference="bench hot sku",
            idempotency_key=f"hot-{item.sku}",
        )
    await wait_replicated([item.sku], state_dir)
    return item


async def balances(sku: str, state_dir: Path | None = None) -> dict[str, int]:
    """Inventory's totals for `sku` over every location, per state (sellable, reserved ...)."""
    async with httpx.AsyncClient(
        base_url=stack.url("inventory"), timeout=30, headers=OPERATIONS.headers(state_dir)
    ) as inventory:
        response = await inventory.get(f"/v1/balances/{sku}")
        response.raise_for_status()
        totals: dict[str, int] = response.json()["totals"]
        return totals


def oversold_by_balances(totals: Mapping[str, int], received: int) -> int:
    """Units reserved or shipped beyond `received`. Shipping takes units out of sellable and
    out of reserved together, and reserved units are sellable units set aside, so what was
    promised (shipped, received - sellable, plus still reserved) exceeds what came in by
    reserved - sellable."""
    shipped = received - totals.get("sellable", 0)
    return max(0, shipped + totals.get("reserved", 0) - received)


def oversold_by_events(units_held: int, received: int) -> int:
    """Units the reservation events hold (taken and not given back) beyond `received`."""
    return max(0, units_held - received)


def summarise(
    run: Run, clock: EventClock, item: catalog.Item, totals: Mapping[str, int]
) -> dict[str, Any]:
    """The hot SKU's figures: reservation rate, orders short of stock, oversold units."""
    reserved_at = [clock.seen[RESERVED][o] for o in run.accepted if o in clock.seen[RESERVED]]
    span = max(reserved_at) - min(run.accepted.values()) if reserved_at else 0.0
    short = clock.short_of_stock()
    held = clock.units_held(item.sku)
    by_balances = oversold_by_balances(totals, UNITS)
    by_events = oversold_by_events(held, UNITS)
    return {
        "sku": item.sku,
        "location_id": LOCATION,
        "units_received": UNITS,
        "orders_reserved": len(reserved_at),
        "reservations_per_s": round(len(reserved_at) / span, 1) if span > 0 else None,
        "short_of_stock": {
            answer: sum(1 for o in run.accepted if short.get(o) == answer)
            for answer in ("backordered", "rejected")
        },
        "units_held_by_reservation_events": held,
        "balances_at_end": {
            "sellable": totals.get("sellable", 0),
            "reserved": totals.get("reserved", 0),
            "shipped": UNITS - totals.get("sellable", 0),
        },
        "oversold_units": {"by_balances": by_balances, "by_reservation_events": by_events},
        "stock_ran_out": held >= UNITS,
        "verdict": verdict(by_balances, by_events, stock_ran_out=held >= UNITS),
    }


def verdict(by_balances: int, by_events: int, *, stock_ran_out: bool) -> str:
    """The oversell finding in one plain sentence."""
    if by_balances or by_events:
        return (
            f"OVERSOLD: {by_balances} units by inventory's balances, {by_events} by the "
            "reservation events"
        )
    if not stock_ran_out:
        return (
            "0 units oversold, but the stock never ran out, so the race for the last units "
            "was not tested: offer more orders (longer --duration)"
        )
    return "0 units oversold: the stock ran out and no unit was promised twice"
