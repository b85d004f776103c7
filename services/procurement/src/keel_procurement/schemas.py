"""HTTP models of the procurement API. Bad input is a 422 naming the field; unknown fields are
refused so a typo never passes silently."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from keel_contracts.values import Currency, Quantity, Sku
from keel_procurement.domain import Status, amount, as_utc

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Person = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
UnitCost = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
Utc = Annotated[datetime, AfterValidator(as_utc)]
Amount = Annotated[Decimal, AfterValidator(amount)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SupplierCreate(Strict):
    supplier_id: Code
    name: Name
    lead_time_days: Annotated[int, Field(ge=0, le=365)]


class SupplierPublic(BaseModel):
    """A supplier with its stated lead time and, once goods have arrived, its measured record:
    mean days from sending an order to its first goods, and the share that came on time."""

    supplier_id: str
    name: str
    lead_time_days: int
    created_at: Utc
    measured_lead_time_days: Decimal | None = None
    on_time_rate: Decimal | None = None
    orders_measured: int = 0


class PolicyPut(Strict):
    supplier_id: Code
    service_level: Annotated[Decimal, Field(gt=0, lt=1, max_digits=5, decimal_places=4)]
    min_order_qty: Quantity
    pack_size: Quantity


class PolicyPublic(PolicyPut):
    sku: str
    location_id: str
    updated_at: Utc


class LineCreate(Strict):
    sku: Sku
    quantity: Quantity
    unit_cost: UnitCost


class PurchaseOrderCreate(Strict):
    supplier_id: Code
    location_id: Code
    currency: Currency = "USD"
    lines: Annotated[list[LineCreate], Field(min_length=1, max_length=500)]


class ApprovalCreate(Strict):
    approver: Person


class ConfirmationCreate(Strict):
    expected_date: date


class CancelRequest(Strict):
    reason: Name = "cancelled"


class ReceiptLineCreate(Strict):
    sku: Sku
    quantity: Quantity


class ReceiptCreate(Strict):
    lines: Annotated[list[ReceiptLineCreate], Field(min_length=1, max_length=500)]


class LinePublic(BaseModel):
    sku: str
    quantity: int
    unit_cost: Amount
    received_quantity: int


class PurchaseOrderPublic(BaseModel):
    po_id: str
    supplier_id: str
    location_id: str
    currency: str
    status: Status
    total: Amount
    lines: list[LinePublic]
    approvals_required: int
    approvers: list[str]
    created_at: Utc
    approved_at: Utc | None
    sent_at: Utc | None
    confirmed_at: Utc | None
    expected_date: date | None
    received_at: Utc | None
    closed_at: Utc | None
    cancelled_at: Utc | None
    cancel_reason: str | None


class ReceiptLinePublic(BaseModel):
    sku: str
    quantity: int


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


class ReplenishmentRunCreate(Strict):
    pass


class SuggestionPublic(BaseModel):
    """A suggested order and the numbers behind it: reorder point = mean x lead time +
    z x sigma x sqrt(lead time); order-up-to = reorder point + mean x review days; position =
    on hand + on order; quantity = order-up-to - position, at least the minimum, in whole packs."""

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
    review_days: int
    service_level: Decimal
    z: Decimal
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
    run_id: str
    suggestions: list[SuggestionPublic]
    purchase_order_ids: list[str]


class SuggestionsPage(BaseModel):
    items: list[SuggestionPublic]
    next_cursor: str | None
