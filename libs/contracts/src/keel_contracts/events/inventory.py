"""Inventory's events: the item master, locations, stock movements, reservations, availability."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from keel_contracts.envelope import Message
from keel_contracts.events.returns import Disposition
from keel_contracts.limits import MAX_QUANTITY
from keel_contracts.values import Line, Money, Quantity, Sku
from keel_contracts.wire import WireModel

LocationKind = Literal["warehouse", "store", "3pl", "in_transit"]

# --- inventory.item.v1: the item master, owned by inventory, replicated by everyone else ---


class ItemRegistered(Message):
    type = "item.registered"
    sku: Sku
    name: str
    unit_cost: Money


class LocationRegistered(Message):
    """`parent_id`: the location it is part of (a site's region, a zone's site), or null."""

    type = "location.registered"
    location_id: str
    name: str
    kind: LocationKind
    country: str
    postal_code: str
    parent_id: str | None = None


# --- inventory.stock.v1: movements of the stock ledger ---


class StockReceived(Message):
    """Units booked into sellable stock at their unit cost.

    `purchase_order_id` is set when the goods arrived against a purchase order (finance then
    credits goods received not invoiced); it is None for opening stock and manual receipts.
    """

    type = "stock.received"
    movement_id: str
    sku: Sku
    location_id: str
    quantity: Quantity
    unit_cost: Money
    reference: str
    purchase_order_id: str | None = None


# --- inventory.reservation.v1: answers to reservation commands, keyed by order ---


class Allocation(WireModel):
    """Units of one SKU held for an order at one location."""

    location_id: str
    sku: Sku
    quantity: Quantity


class StockReserved(Message):
    """Every line of the order is held; the allocations say where (one location if any holds
    everything, else split across locations)."""

    type = "stock.reserved"
    order_id: str
    reservation_id: str
    allocations: tuple[Allocation, ...]
    expires_at: datetime


class StockReservationFailed(Message):
    """Nothing was held. With `waiting`, the request joined the SKU's backorder queue and a
    `stock.reserved` follows when receipts cover it (oldest request first); `promise_date` is
    when inventory expects to cover it from purchase orders still to come (null: they do not
    cover it, or not known)."""

    type = "stock.reservation_failed"
    order_id: str
    short_lines: tuple[Line, ...]
    reason: str
    waiting: bool = False
    promise_date: date | None = None


class StockReleased(Message):
    """The order's held stock went back to sellable: released on request, or `expired` (held
    past its time without the order being confirmed)."""

    type = "stock.released"
    order_id: str
    reservation_id: str
    reason: str
    expired: bool = False


class StockIssued(Message):
    """Units left a location on a shipment: the reservation is consumed, stock goes down."""

    type = "stock.issued"
    order_id: str
    shipment_id: str
    location_id: str
    sku: Sku
    quantity: Quantity
    unit_cost: Money
    movement_id: str | None = None


# --- inventory.availability.v1: compacted, the latest available-to-sell per SKU ---


class AvailabilityChanged(Message):
    """What may be sold of a SKU now, sent (debounced) when it changes: `available_to_sell`
    is its free units over every location; `channels` what each sales channel inventory knows
    may sell of it under its allocation rule (added after the first release: empty from an
    older producer)."""

    type = "availability.changed"
    sku: Sku
    available_to_sell: int
    channels: dict[str, int] = Field(default_factory=dict)


# --- inventory.stock.v1: returned stock ---


class StockReturned(Message):
    """Returned units of one SKU moved at a location, one event per return line and step.

    On `return.received` the units enter `pending_inspection` (`disposition` is None); on
    `return.inspected` they leave it for `state`: `sellable` (restock), `quarantine`
    (refurbish), `damaged` (damaged), or `written_off` (write_off: they left stock). `unit_cost`
    is the item's cost as inventory knows it (informative: finance values stock at its own
    moving average); `movement_id` is the ledger movement that put the units in `state` (for a
    write-off, the one that took them out). Not a receipt: finance must not count it as
    `stock.received`.
    """

    type = "stock.returned"
    return_id: str
    order_id: str
    location_id: str
    sku: Sku
    quantity: Quantity
    state: str
    disposition: Disposition | None = None
    unit_cost: Money
    movement_id: str


# --- inventory.stock.v1: adjustments ---


class StockAdjusted(Message):
    """Units of one SKU found (`quantity` above 0) or lost (below 0) at a location: a cycle
    count's variance or a person's adjustment of sellable stock, applied once within tolerance or
    approved, or a transfer's units that never arrived, written off in transit. `reason_code`
    says why (count_variance, damage, loss, found, transit_loss); `unit_cost` is the item
    master's (informative: finance values stock at its own moving average). Finance posts it
    against inventory shrinkage."""

    type = "stock.adjusted"
    adjustment_id: str
    movement_id: str
    location_id: str
    sku: Sku
    quantity: Annotated[int, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
    reason_code: Annotated[str, Field(min_length=1, max_length=30)]
    unit_cost: Money

    @field_validator("quantity")
    @classmethod
    def _moves_something(cls, quantity: int) -> int:
        if quantity == 0:
            raise ValueError("an adjustment moves at least one unit")
        return quantity
