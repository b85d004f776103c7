"""Inventory tables. The movement ledger is append-only; balances are its projection."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, Numeric, Text
from sqlmodel import Field, SQLModel

from keel_kit.tables import utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_BIGINT_ID = BigInteger().with_variant(Integer(), "sqlite")

# Longest order id and channel a reservation stores (contracts leave them unbounded).
ORDER_ID_LENGTH = 100
CHANNEL_LENGTH = 64
# Longest purchase order and receipt ids kept from procurement's events.
PURCHASE_ORDER_ID_LENGTH = 100
RECEIPT_ID_LENGTH = 100
SUPPLIER_ID_LENGTH = 100
# Longest return id kept from the returns service's events.
RETURN_ID_LENGTH = 100


class Item(SQLModel, table=True):
    __tablename__ = "item"

    sku: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    unit_cost: Decimal = Field(sa_type=Numeric(18, 4))
    currency: str = Field(max_length=3)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Location(SQLModel, table=True):
    __tablename__ = "location"

    location_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    country: str = Field(max_length=2)
    postal_code: str = Field(max_length=20)
    # The location it is part of (region > site > zone); availability rolls up the tree.
    parent_id: str | None = Field(default=None, foreign_key="location.location_id", max_length=64)


class StockMovement(SQLModel, table=True):
    """One change to one state of one SKU at one location; never updated or deleted."""

    __tablename__ = "stock_movement"

    movement_id: str = Field(primary_key=True, max_length=36)
    sku: str = Field(foreign_key="item.sku", index=True, max_length=64)
    location_id: str = Field(foreign_key="location.location_id", max_length=64)
    state: str = Field(max_length=30)
    quantity: int
    kind: str = Field(max_length=30)
    unit_cost: Decimal = Field(sa_type=Numeric(18, 4))
    reference: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class StockBalance(SQLModel, table=True):
    """Quantity per (SKU, location, state): the sum of that key's movements."""

    __tablename__ = "stock_balance"

    sku: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(primary_key=True, max_length=64)
    state: str = Field(primary_key=True, max_length=30)
    quantity: int = 0


class Reservation(SQLModel, table=True):
    """Stock held for one order until it ships, is released, or expires (DESIGN §3).

    One row per order: a second request for the order finds it and repeats the answer.
    """

    __tablename__ = "reservation"
    # The expiry job looks for held reservations past their time, oldest first.
    __table_args__ = (Index("ix_reservation_status_expires_at", "status", "expires_at"),)

    reservation_id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(unique=True, max_length=ORDER_ID_LENGTH)
    channel: str = Field(max_length=CHANNEL_LENGTH)
    status: str = Field(max_length=20)
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ReservationAllocation(SQLModel, table=True):
    """Units of one SKU a reservation holds at one location (its lines, located): `quantity`
    held, of which `shipped` have left on the order's shipments and are held no more."""

    __tablename__ = "reservation_allocation"

    reservation_id: str = Field(
        foreign_key="reservation.reservation_id", primary_key=True, max_length=36
    )
    sku: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(primary_key=True, max_length=64)
    quantity: int
    shipped: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Backorder(SQLModel, table=True):
    """A reservation request waiting for stock. Requests are served in id order (FIFO)."""

    __tablename__ = "backorder"

    id: int | None = Field(
        default=None, sa_column=Column(_BIGINT_ID, primary_key=True, autoincrement=True)
    )
    order_id: str = Field(unique=True, max_length=ORDER_ID_LENGTH)
    channel: str = Field(max_length=CHANNEL_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class BackorderLine(SQLModel, table=True):
    __tablename__ = "backorder_line"
    # A receipt finds the queued requests that want its SKU, oldest first.
    __table_args__ = (Index("ix_backorder_line_sku", "sku", "backorder_id"),)

    backorder_id: int = Field(
        sa_column=Column(_BIGINT_ID, ForeignKey("backorder.id"), primary_key=True)
    )
    sku: str = Field(primary_key=True, max_length=64)
    quantity: int


class OnOrderLine(SQLModel, table=True):
    """A SKU a confirmed purchase order brings to a location: on order is what is still to come
    (ordered less received, never below zero) until the order is cancelled or closed.

    On-order stock is not sellable: nothing here is a ledger state, and reservations never see it.
    """

    __tablename__ = "on_order_line"
    # Availability sums a SKU's open lines per location.
    __table_args__ = (Index("ix_on_order_line_sku", "sku", "is_open"),)

    purchase_order_id: str = Field(primary_key=True, max_length=PURCHASE_ORDER_ID_LENGTH)
    sku: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(max_length=64)
    # Whose goods they are (null on lines confirmed before it was kept): promises weigh them by
    # how often the supplier comes on time.
    supplier_id: str | None = Field(default=None, max_length=SUPPLIER_ID_LENGTH)
    ordered: int
    received: int = 0
    expected_date: date
    is_open: bool = True


class PurchaseReceiptLine(SQLModel, table=True):
    """One line of a purchase-order receipt booked into stock: a receipt redelivered under a new
    event id (the inbox dedupes by event id only) finds its lines here and books nothing twice."""

    __tablename__ = "purchase_receipt_line"

    receipt_id: str = Field(primary_key=True, max_length=RECEIPT_ID_LENGTH)
    sku: str = Field(primary_key=True, max_length=64)
    purchase_order_id: str = Field(max_length=PURCHASE_ORDER_ID_LENGTH)
    movement_id: str = Field(max_length=36)
    quantity: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ReturnStockStep(SQLModel, table=True):
    """One step of a return applied to one SKU's stock: `received` (into pending_inspection) or
    `inspected` (out of it, as the dispositions say). A return redelivered under a new event id
    (the inbox dedupes by event id only) finds its step here and moves nothing twice."""

    __tablename__ = "return_stock_step"

    return_id: str = Field(primary_key=True, max_length=RETURN_ID_LENGTH)
    sku: str = Field(primary_key=True, max_length=64)
    step: str = Field(primary_key=True, max_length=20)
    location_id: str = Field(max_length=64)
    quantity: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class OversellCheck(SQLModel, table=True):
    """A count of the oversold units (reserved beyond sellable, over every location), kept each
    time a periodic check makes it: the oversell rate over time rests on these, zeros included,
    which also show that the check ran."""

    __tablename__ = "oversell_check"

    id: int | None = Field(default=None, primary_key=True)
    checked_at: datetime = Field(index=True, sa_type=DateTime(timezone=True))
    oversold_units: int
    locations: int


class ChannelRule(SQLModel, table=True):
    """A sales channel's allocation rule (keel_inventory.channel_rules): its default for every
    SKU (`sku` ""), or its rule for one SKU. `version` counts its changes; the audit trail
    keeps each one, who made it and what it was before."""

    __tablename__ = "channel_rule"

    channel_id: str = Field(primary_key=True, max_length=CHANNEL_LENGTH)
    sku: str = Field(primary_key=True, max_length=64)
    cap_percent: int | None = None
    cap_units: int | None = None
    pool_units: int | None = None
    safety_units: int | None = None
    # Which channel's backorders are served first when stock is short (the default rule's).
    priority: int | None = None
    version: int = 1
    updated_by: str = Field(max_length=100)
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


class ChannelHold(SQLModel, table=True):
    """Units of a SKU a channel holds reserved, over every location: a projection of the
    reserved movements, by the channel of the reservation each names, that the caps read
    instead of summing every held reservation."""

    __tablename__ = "channel_hold"

    channel: str = Field(primary_key=True, max_length=CHANNEL_LENGTH)
    sku: str = Field(primary_key=True, max_length=64)
    quantity: int = 0


class KnownChannel(SQLModel, table=True):
    """A sales channel as the order service announced it (`channel.registered`): allocation
    rules are kept only for channels that exist, and the availability feed tells each one what
    it may sell."""

    __tablename__ = "known_channel"

    channel_id: str = Field(primary_key=True, max_length=CHANNEL_LENGTH)
    name: str = Field(max_length=200)
    market_country: str = Field(max_length=2)


class AvailabilityFeed(SQLModel, table=True):
    """Per SKU, whether what may be sold of it has changed since it was last published on
    inventory.availability.v1 (`dirty`), and what was published last (its JSON payload), so
    a change that comes back to the same numbers is not sent again."""

    __tablename__ = "availability_feed"
    # The publishing job looks for the dirty ones.
    __table_args__ = (Index("ix_availability_feed_dirty", "dirty"),)

    sku: str = Field(primary_key=True, max_length=64)
    dirty: bool = True
    published: str | None = Field(default=None, sa_type=Text)


class SupplierRating(SQLModel, table=True):
    """A supplier's punctuality as procurement measures it (`supplier.rated`): the share of its
    orders whose first goods came by the date first promised, over `orders_measured`."""

    __tablename__ = "supplier_rating"

    supplier_id: str = Field(primary_key=True, max_length=SUPPLIER_ID_LENGTH)
    orders_measured: int
    on_time_rate: Decimal | None = Field(default=None, sa_type=Numeric(5, 4))


class Transfer(SQLModel, table=True):
    """Stock of one SKU moved from one location to another (keel_inventory.transfers):
    requested, approved, shipped (in transit at the destination), received in one or more
    receipts. Who did each step is on the audit trail as well."""

    __tablename__ = "transfer"
    # Lists page by status, the oldest first.
    __table_args__ = (Index("ix_transfer_status_created_at", "status", "created_at"),)

    transfer_id: str = Field(primary_key=True, max_length=36)
    sku: str = Field(foreign_key="item.sku", max_length=64)
    from_location_id: str = Field(foreign_key="location.location_id", max_length=64)
    to_location_id: str = Field(foreign_key="location.location_id", max_length=64)
    quantity: int
    received: int = 0
    # Units that never arrived, written off when the discrepancy was accepted.
    written_off: int = 0
    status: str = Field(max_length=20)  # a transfers.TransferStatus
    requested_by: str = Field(max_length=100)
    approved_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    shipped_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    received_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class CycleCount(SQLModel, table=True):
    """A blind count of some SKUs at one location (keel_inventory.counts): open until the
    counter posts what they found, then counted, each line beside what the ledger held."""

    __tablename__ = "cycle_count"
    __table_args__ = (Index("ix_cycle_count_status_created_at", "status", "created_at"),)

    count_id: str = Field(primary_key=True, max_length=36)
    location_id: str = Field(foreign_key="location.location_id", max_length=64)
    status: str = Field(max_length=20)  # a counts.CountStatus
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    counted_by: str | None = Field(default=None, max_length=100)
    counted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class CycleCountLine(SQLModel, table=True):
    """One SKU of a count: what was counted, and what the ledger held then (kept from the
    counter until they have counted)."""

    __tablename__ = "cycle_count_line"

    count_id: str = Field(foreign_key="cycle_count.count_id", primary_key=True, max_length=36)
    sku: str = Field(foreign_key="item.sku", primary_key=True, max_length=64)
    expected: int | None = None
    counted: int | None = None
    # Whether the variance was small enough to post without approval: the accuracy KPI.
    within_tolerance: bool | None = None


class StockAdjustment(SQLModel, table=True):
    """A signed change to a SKU's sellable units at a location (keel_inventory.adjustments),
    from a count's variance or a person: applied at once within tolerance, else pending until
    operations approves or rejects it."""

    __tablename__ = "stock_adjustment"
    __table_args__ = (Index("ix_stock_adjustment_status_created_at", "status", "created_at"),)

    adjustment_id: str = Field(primary_key=True, max_length=36)
    sku: str = Field(foreign_key="item.sku", max_length=64)
    location_id: str = Field(foreign_key="location.location_id", max_length=64)
    quantity: int
    reason_code: str = Field(max_length=30)
    count_id: str | None = Field(default=None, foreign_key="cycle_count.count_id", max_length=36)
    lot: str | None = Field(default=None, max_length=64)  # the lot it names, if any
    # The transfer whose missing units it writes off: its movement names the transfer, as the
    # transfer's own do, so the units in transit per transfer stay a sum of the ledger.
    transfer_id: str | None = Field(default=None, foreign_key="transfer.transfer_id", max_length=36)
    # The units the ledger held when it was asked for, and their value at the item's cost.
    expected: int
    # The state it changes: sellable, or in_transit for transfer units written off.
    state: str = Field(max_length=30)
    unit_cost: Decimal = Field(sa_type=Numeric(18, 4))
    currency: str = Field(max_length=3)
    status: str = Field(max_length=20)  # an adjustments.AdjustmentStatus
    requested_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    movement_id: str | None = Field(default=None, max_length=36)


class StockException(SQLModel, table=True):
    """An inventory exception waiting on a person (count_discrepancy, transfer_discrepancy,
    adjustment_approval), in the shape every service's queue shares
    (keel_contracts.exception_queue); `reference` names the adjustment or transfer."""

    __tablename__ = "stock_exception"
    # The queue lists open (or resolved) exceptions by due time.
    __table_args__ = (Index("ix_stock_exception_open_due", "is_open", "due_at", "exception_id"),)

    exception_id: str = Field(primary_key=True, max_length=36)
    type: str = Field(max_length=30)
    reason: str = Field(max_length=400)
    reference: str = Field(max_length=100, index=True)
    owner_role: str = Field(max_length=30)
    is_open: bool = True
    opened_at: datetime = Field(sa_type=DateTime(timezone=True))
    due_at: datetime = Field(sa_type=DateTime(timezone=True))
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    resolution: str | None = Field(default=None, max_length=20)
    resolution_note: str | None = Field(default=None, max_length=400)
    resolved_by: str | None = Field(default=None, max_length=100)
    # Whom it went up to once overdue (exception_queue.escalated_to), and when it last went up.
    escalated_to: str | None = Field(default=None, max_length=30)
    escalated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
