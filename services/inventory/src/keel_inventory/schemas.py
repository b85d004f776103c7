"""HTTP models of the inventory API."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from keel_contracts.limits import MAX_QUANTITY, NoControl, UnitCost
from keel_contracts.values import Currency, Quantity, Sku
from keel_kit.schemas import RequestBody

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), NoControl
]


class ItemCreate(RequestBody):
    sku: Sku
    name: Name
    unit_cost: UnitCost
    currency: Currency


class ItemPublic(ItemCreate):
    # As stored: an item registered before today's bounds still reads back.
    name: str
    # With its currency's places (250 JPY, 2.50 USD, 2.500 KWD), more when they carry value.
    unit_cost: Decimal
    created_at: datetime


class LocationCreate(RequestBody):
    location_id: Code
    name: Name
    kind: Literal["warehouse", "store", "3pl"]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20), NoControl]
    parent_id: Code | None = Field(
        default=None, description="the location this one is part of (a site's region), if any"
    )


class ReceiptCreate(RequestBody):
    """Units booked in at a cost. Its value (quantity x unit cost) needs no check of its own:
    the bounds on both keep it within one amount (keel_contracts.limits), which is what finance
    posts for it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "MUG-1",
                    "location_id": "WH-EAST",
                    "quantity": 10,
                    "unit_cost": "3.50",
                    "reference": "opening",
                }
            ]
        }
    )

    sku: Sku
    location_id: Code
    quantity: Quantity
    unit_cost: UnitCost
    reference: Annotated[str, StringConstraints(min_length=1, max_length=200), NoControl]
    lot: Code | None = Field(default=None, description="the lot the units belong to, if any")
    expires_on: date | None = Field(
        default=None,
        description="when the lot expires (only with `lot`); issues pick the first to expire first",
    )


class MovementPublic(BaseModel):
    movement_id: str
    sku: str
    location_id: str
    state: str
    quantity: int
    kind: str
    unit_cost: Decimal
    reference: str
    created_at: datetime


class LocationAvailability(BaseModel):
    """Stock of one SKU at one location. `on_order` is what confirmed purchase orders still
    bring, due from `next_expected_date`: it is not sellable and counts toward nothing else."""

    location_id: str
    sellable: int
    reserved: int
    available: int
    on_order: int = 0
    next_expected_date: date | None = None
    in_transit: int = Field(
        default=0, description="units shipped here from another location, not yet received"
    )


class LocationRollup(BaseModel):
    """A location's tree (itself and every location part of it, at any depth), summed."""

    location_id: str
    sellable: int
    reserved: int
    available: int
    on_order: int
    in_transit: int


class AvailabilityPublic(BaseModel):
    sku: str
    available_to_sell: int
    locations: list[LocationAvailability]
    rollup: list[LocationRollup] = Field(
        default_factory=list,
        description="each location that has others as parts, with its whole tree summed "
        "(left out where no location has a parent)",
    )
    channel: "ChannelAvailability | None" = Field(
        default=None, description="with `?channel=`: what that channel may sell"
    )


class BalancePublic(BaseModel):
    location_id: str
    state: str
    quantity: int


class BalancesPublic(BaseModel):
    """A SKU's balance per location and stock state, every state (sellable, reserved,
    pending_inspection, quarantine, damaged ...), each the sum of its ledger movements; and its
    `totals` and `valued_quantity` over all locations, as `StockTotalsPublic` has them."""

    sku: str
    balances: list[BalancePublic]
    totals: dict[str, int] = Field(default_factory=dict)
    valued_quantity: int = 0


class StockTotalsPublic(BaseModel):
    """A SKU's units per state over all its locations: every ledger state it has held stock in
    (zeros included), `on_order` while a purchase order line for it is open, and `written_off`
    (units written off to date). `valued_quantity` is its valued stock: the units in sellable
    (reserved units are sellable units set aside, so not counted again), quarantine and damaged;
    not those pending inspection (not graded yet), on order or written off."""

    sku: str
    totals: dict[str, int]
    valued_quantity: int


class StockTotalsPage(BaseModel):
    items: list[StockTotalsPublic]
    next_cursor: str | None


class LedgerPage(BaseModel):
    items: list[MovementPublic]
    next_cursor: str | None


class AllocationPublic(BaseModel):
    location_id: str
    sku: str
    quantity: int


class ReservationLine(BaseModel):
    sku: str
    quantity: int


ReservationStatus = Literal["held", "released", "expired", "committed", "waiting"]


class ReservationPublic(BaseModel):
    """An order's reservation, or its place in the backorder queue (status "waiting", no
    reservation id, no allocations yet)."""

    order_id: str
    reservation_id: str | None
    channel: str
    status: ReservationStatus
    lines: list[ReservationLine]
    allocations: list[AllocationPublic]
    expires_at: datetime | None
    created_at: datetime


class Oversold(BaseModel):
    sku: str
    location_id: str
    sellable: int
    reserved: int


class OversoldPage(BaseModel):
    items: list[Oversold]
    next_cursor: str | None  # null at the end


class LedgerMismatch(BaseModel):
    sku: str
    location_id: str
    state: str
    ledger: int
    balance: int


class LedgerMismatchesPage(BaseModel):
    items: list[LedgerMismatch]
    next_cursor: str | None  # null at the end


class InvariantsPublic(BaseModel):
    """The stock invariants: balances equal the sum of their movements, and no location holds
    more reserved than sellable. Each break is counted here, all of them; they are listed a
    page at a time at `GET /v1/invariants/mismatches` and `GET /v1/invariants/oversold`."""

    ledger_matches_balances: bool
    mismatched_balances: int = Field(description="balances whose movements sum to another figure")
    oversold_locations: int = Field(description="SKU-locations with more reserved than sellable")
    oversold_units: int = Field(description="units reserved beyond sellable, over them all")


# --- channel allocation ---

Units = Annotated[int, Field(ge=0, le=MAX_QUANTITY * 1000)]


class ChannelRuleIn(RequestBody):
    """A channel's allocation rule (see keel_inventory.channel_rules); a field left out (or
    null) does not limit the channel."""

    cap_percent: Annotated[int, Field(ge=0, le=100)] | None = Field(
        default=None, description="the most the channel may hold, as a share of sellable units"
    )
    cap_units: Units | None = Field(default=None, description="the most the channel may hold")
    pool_units: Units | None = Field(
        default=None, description="units kept for this channel alone: others cannot take them"
    )
    safety_units: Units | None = Field(
        default=None, description="free units this channel never sells (a marketplace's buffer)"
    )
    priority: Annotated[int, Field(ge=0, le=100)] | None = Field(
        default=None,
        description="when stock is short, the backorder queue serves a channel of higher "
        "priority first (0 when not set; the channel's default rule only)",
    )


class ChannelRulePublic(ChannelRuleIn):
    channel_id: str
    sku: str | None = Field(description="null: the channel's default, for every SKU")
    version: int = Field(description="1 when first set, one more with each change")
    updated_by: str
    updated_at: datetime


class ChannelRulesPublic(BaseModel):
    channel_id: str
    default: ChannelRulePublic | None
    skus: list[ChannelRulePublic] = Field(description="rules for one SKU, replacing the default")


class ChannelAvailability(BaseModel):
    """What one channel may sell of a SKU: `available_to_sell` is the smaller of the SKU's
    free units (less other channels' unfilled pools and this channel's safety buffer) and its
    cap less what it holds."""

    channel_id: str
    available_to_sell: int
    held: int = Field(description="units the channel holds reserved")
    rule: ChannelRuleIn | None = Field(description="the rule that applies, if any")


# --- available to promise ---

Day = date  # `PromisePublic.date` names a field what the type is called


class PromiseSource(BaseModel):
    """What a promise counts on: stock that may be sold now, or a purchase order's line."""

    kind: Literal["stock", "purchase_order"]
    quantity: int
    purchase_order_id: str | None = None
    location_id: str | None = None
    expected_date: date | None = None
    supplier_id: str | None = None
    on_time_rate: Decimal | None = Field(
        default=None, description="the supplier's measured share of orders on time; null: none"
    )


class PromisePublic(BaseModel):
    sku: str
    quantity: int
    channel: str | None
    date: Day | None = Field(
        description="the earliest date the quantity can be promised; null: stock and inbound "
        "goods together fall `short`"
    )
    confidence: Decimal = Field(
        description="1 from stock; from inbound goods, the least punctual supplier's on-time "
        "rate (0.5 for one never measured); 0 without a date"
    )
    sources: list[PromiseSource]
    short: int = Field(description="units nothing covers yet")


# --- transfers ---


class TransferCreate(RequestBody):
    sku: Sku
    from_location_id: Code
    to_location_id: Code
    quantity: Quantity


class TransferReceipt(RequestBody):
    quantity: Quantity = Field(description="units counted in at the destination")


class TransferPublic(BaseModel):
    transfer_id: str
    status: str = Field(
        description="requested, approved, shipped, partially_received, received or "
        "closed_short (what never came written off)"
    )
    sku: str
    from_location_id: str
    to_location_id: str
    quantity: int
    received: int
    in_transit: int = Field(description="shipped and not yet received (nor written off)")
    written_off: int = Field(description="units that never came, written off as a loss")
    requested_by: str
    approved_by: str | None
    created_at: datetime
    shipped_at: datetime | None
    received_at: datetime | None = Field(description="when the last units came in")


class TransfersPage(BaseModel):
    items: list[TransferPublic]
    next_cursor: str | None


class LotLocation(BaseModel):
    location_id: str
    state: str = Field(description="sellable, in_transit, pending_inspection, quarantine, damaged")
    quantity: int


class LotReceipt(BaseModel):
    location_id: str
    quantity: int
    reference: str
    received_at: datetime


class LotOrder(BaseModel):
    location_id: str
    quantity: int
    order_id: str | None
    shipment_id: str


class LotPublic(BaseModel):
    """One lot of a SKU, with its units on hand per location and its age."""

    sku: str
    lot: str
    expires_on: date | None
    first_received_at: datetime
    age_days: int = Field(description="days since its first units came in")
    on_hand: int
    locations: list[LotLocation]


class LotRecall(LotPublic):
    """A lot as a recall needs it: what came in, what is still here, and the orders its units
    were shipped to."""

    received: list[LotReceipt]
    orders: list[LotOrder]


class LotsPage(BaseModel):
    items: list[LotPublic]
