"""HTTP models of the procurement API. Bad input is a 422 naming the field; unknown fields are
refused so a typo never passes silently."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from keel_contracts.limits import MAX_LINES, BusinessDate, NoControl, UnitCost, check_total
from keel_contracts.times import UtcDatetime as Utc
from keel_contracts.values import Currency, Quantity, Sku
from keel_kit.schemas import RequestBody
from keel_kit.tables import utcnow
from keel_procurement.domain import Status, total

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), NoControl
]
Person = Annotated[
    str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True), NoControl
]


class SupplierCreate(RequestBody):
    supplier_id: Code
    name: Name
    lead_time_days: Annotated[int, Field(ge=0, le=365)]


class SupplierPublic(BaseModel):
    """A supplier with its stated lead time and the record its own purchase orders measure.

    Over the `orders_measured` orders that received goods: the mean and the sample standard
    deviation (`lead_time_spread_days`, from two orders on) of the days from sending an order
    to its first goods, and the share (`orders_on_time` of them) whose first goods came by the
    date the supplier first promised (by its stated lead time when it never confirmed). Over
    the `fill_orders` orders received or closed: `fill_rate` = `units_filled` / `units_ordered`,
    a line's filled units being those received up to its ordered quantity (an order closed short
    counts its shortfall)."""

    supplier_id: str
    name: str
    lead_time_days: int
    created_at: Utc
    measured_lead_time_days: Decimal | None = None
    lead_time_spread_days: Decimal | None = None
    on_time_rate: Decimal | None = None
    orders_measured: int = 0
    orders_on_time: int = 0
    fill_rate: Decimal | None = None
    fill_orders: int = 0
    units_ordered: int = 0
    units_filled: int = 0


class PolicyPut(RequestBody):
    supplier_id: Code
    service_level: Annotated[Decimal, Field(gt=0, lt=1, max_digits=5, decimal_places=4)]
    min_order_qty: Quantity
    pack_size: Quantity


class PolicyPublic(PolicyPut):
    sku: str
    location_id: str
    updated_at: Utc


class LineCreate(RequestBody):
    sku: Sku
    quantity: Quantity
    unit_cost: UnitCost


class PurchaseOrderCreate(RequestBody):
    supplier_id: Code
    location_id: Code
    currency: Currency = "USD"
    lines: Annotated[list[LineCreate], Field(min_length=1, max_length=MAX_LINES)]

    @model_validator(mode="after")
    def _total_fits_one_amount(self) -> "PurchaseOrderCreate":
        """The total travels as one amount (purchase_order.drafted) and is stored as one."""
        value = total((line.quantity, line.unit_cost) for line in self.lines)
        check_total("PurchaseOrderCreate", ("lines",), value, "the total (quantity x unit cost)")
        return self


class ApprovalCreate(RequestBody):
    """The approver is the caller. Older clients named them here: naming the caller still
    works, naming anyone else is a 403."""

    approver: Person | None = None


class ConfirmationCreate(RequestBody):
    expected_date: BusinessDate


class CancelRequest(RequestBody):
    reason: Name = "cancelled"


class ReceiptLineCreate(RequestBody):
    sku: Sku
    quantity: Quantity
    lot: Code | None = Field(
        default=None,
        description="the lot the units belong to, if any; one lot of a SKU per receipt",
    )
    expires_on: date | None = Field(
        default=None, description="when the lot expires (only with `lot`)"
    )


class ReceiptCreate(RequestBody):
    lines: Annotated[list[ReceiptLineCreate], Field(min_length=1, max_length=MAX_LINES)]


class LinePublic(BaseModel):
    sku: str
    quantity: int
    unit_cost: Decimal
    received_quantity: int


class PurchaseOrderPublic(BaseModel):
    """A purchase order; its amounts are written with its currency's places (1500 JPY, 2.50
    USD, 1.500 KWD), a unit cost with more when they carry value (4.125 USD)."""

    po_id: str
    supplier_id: str
    location_id: str
    currency: str
    status: Status
    total: Decimal
    lines: list[LinePublic]
    approvals_required: int
    approvers: list[str]
    created_by: str  # a person, or replenishment-run:<run id> ("unknown": from before it was kept)
    created_at: Utc
    approved_at: Utc | None
    sent_at: Utc | None
    confirmed_at: Utc | None
    expected_date: date | None
    promised_date: date | None
    first_received_at: Utc | None
    received_at: Utc | None
    closed_at: Utc | None
    cancelled_at: Utc | None
    cancel_reason: str | None


class ReceiptLinePublic(BaseModel):
    sku: str
    quantity: int
    lot: str | None = None
    expires_on: date | None = None


class ReceiptPublic(BaseModel):
    receipt_id: str
    po_id: str
    received_at: Utc
    lines: list[ReceiptLinePublic]
    purchase_order: PurchaseOrderPublic


class DemandPublic(BaseModel):
    """The demand signal of a SKU at a location as of today: the EWMA over the closed days
    (the days before today, empty ones as zero) and what is on hand by the events seen."""

    sku: str
    location_id: str
    mean_daily_demand: Decimal
    variance: Decimal
    days_observed: int
    today_quantity: int
    on_hand: int


class DaySales(RequestBody):
    date: BusinessDate
    quantity: Annotated[int, Field(ge=0, le=1_000_000_000)]


# Older sales say little about today's demand, and a long series only costs the signal's fold.
MAX_HISTORY_DAYS = 400


class DemandSeries(RequestBody):
    sku: Sku
    location_id: Code
    days: Annotated[list[DaySales], Field(min_length=1, max_length=366)]

    @field_validator("days")
    @classmethod
    def _one_figure_per_day(cls, days: list[DaySales]) -> list[DaySales]:
        seen = {d.date for d in days}
        if len(seen) != len(days):
            raise ValueError("each date may appear once")
        today = utcnow().date()
        if max(seen) >= today:
            raise ValueError("history ends before today (today's sales are being counted)")
        if min(seen) < today - timedelta(days=MAX_HISTORY_DAYS):
            raise ValueError(f"history reaches back at most {MAX_HISTORY_DAYS} days")
        return days


class DemandHistoryCreate(RequestBody):
    series: Annotated[list[DemandSeries], Field(min_length=1, max_length=500)]


class DemandHistoryPublic(BaseModel):
    series: int
    days: int


class ReplenishmentRunCreate(RequestBody):
    pass


class SuggestionPublic(BaseModel):
    """A suggested order and the numbers behind it: reorder point = mean x lead time + safety
    stock, where safety stock = z x sigma x sqrt(lead time), or, when the supplier's measured
    lead time has a spread (`lead_time_sigma`), z x sqrt(lead time x sigma^2 + mean^2 x
    lead_time_sigma^2); order-up-to = reorder point + mean x review days; position = on hand +
    on order; quantity = order-up-to - position, at least the minimum, in whole packs."""

    suggestion_id: str
    run_id: str
    sku: str
    location_id: str
    supplier_id: str
    status: str
    po_id: str | None
    mean_daily_demand: Decimal
    demand_sigma: Decimal
    lead_time_days: Decimal
    lead_time_source: str
    lead_time_sigma: Decimal | None = None
    review_days: int
    service_level: Decimal
    z: Decimal
    safety_stock: Decimal | None = None
    reorder_point: Decimal
    order_up_to: Decimal
    on_hand: int
    on_order: int
    position: int
    raw_quantity: int
    min_order_qty: int
    pack_size: int
    quantity: int
    created_at: Utc


class ReplenishmentRunPublic(BaseModel):
    """A replenishment run: when it reviewed every policy, how many suggestions it made and how
    many purchase orders it drafted from them. Its suggestions, each naming the purchase order
    it went on (`po_id`), are read a page at a time from
    `GET /v1/replenishment-runs/{run_id}/suggestions`."""

    run_id: str
    created_at: Utc
    suggestions_made: int
    purchase_orders_drafted: int


class ReplenishmentRunsPage(BaseModel):
    items: list[ReplenishmentRunPublic]
    next_cursor: str | None  # null at the end


class SuppliersPage(BaseModel):
    items: list[SupplierPublic]
    next_cursor: str | None  # null at the end


class PurchaseOrdersPage(BaseModel):
    items: list[PurchaseOrderPublic]
    next_cursor: str | None  # null at the end


class SuggestionsPage(BaseModel):
    items: list[SuggestionPublic]
    next_cursor: str | None  # null at the end
