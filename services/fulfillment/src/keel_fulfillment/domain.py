"""Shipment planning and the shipment lifecycle, free of I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

from keel_contracts.events import Allocation


class ShipmentStatus(StrEnum):
    CREATED = "created"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# A warehouse may skip reporting picked/packed; it may never go backwards.
NEXT: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    ShipmentStatus.CREATED: frozenset(
        {
            ShipmentStatus.PICKED,
            ShipmentStatus.PACKED,
            ShipmentStatus.SHIPPED,
            ShipmentStatus.CANCELLED,
        }
    ),
    ShipmentStatus.PICKED: frozenset(
        {ShipmentStatus.PACKED, ShipmentStatus.SHIPPED, ShipmentStatus.CANCELLED}
    ),
    ShipmentStatus.PACKED: frozenset({ShipmentStatus.SHIPPED, ShipmentStatus.CANCELLED}),
    ShipmentStatus.SHIPPED: frozenset({ShipmentStatus.DELIVERED}),
    ShipmentStatus.DELIVERED: frozenset(),
    ShipmentStatus.CANCELLED: frozenset(),
}
OPEN = frozenset({ShipmentStatus.CREATED, ShipmentStatus.PICKED, ShipmentStatus.PACKED})


# What a warehouse reports, in the order a shipment goes through them (cancelling is the order's).
WAREHOUSE_EVENTS = (
    ShipmentStatus.PICKED,
    ShipmentStatus.PACKED,
    ShipmentStatus.SHIPPED,
    ShipmentStatus.DELIVERED,
)


def next_events(current: ShipmentStatus) -> list[str]:
    """The warehouse events a shipment in `current` may take now."""
    return [event.value for event in WAREHOUSE_EVENTS if event in NEXT[current]]


class AppliedEvent(NamedTuple):
    """A warehouse event applied to a shipment, kept by its event id: the same id sent again
    is a duplicate only if it says this again."""

    shipment_id: str
    type: str
    location_id: str


class IllegalShipmentEvent(ValueError):
    pass


def check_next(current: ShipmentStatus, target: ShipmentStatus) -> None:
    if target not in NEXT[current]:
        raise IllegalShipmentEvent(f"a {current} shipment cannot become {target}")


def plan(allocations: Iterable[Allocation]) -> dict[str, dict[str, int]]:
    """One shipment per location that holds part of the order: {location: {sku: quantity}}."""
    shipments: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for allocation in allocations:
        shipments[allocation.location_id][allocation.sku] += allocation.quantity
    return {location: dict(lines) for location, lines in sorted(shipments.items())}
