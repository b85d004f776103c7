"""HTTP models of the returns API."""

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from keel_contracts.limits import NoControl
from keel_contracts.values import Money, Quantity, Sku
from keel_kit.schemas import RequestBody
from keel_returns.domain import Disposition, Grade

OrderRef = Annotated[str, StringConstraints(min_length=1, max_length=36), NoControl]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoControl
]
ChannelName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
]


class ReturnLineIn(RequestBody):
    sku: Sku
    quantity: Quantity
    reason: Reason


class ReturnCreate(RequestBody):
    order_id: OrderRef
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=100)


class ReturnAccepted(BaseModel):
    return_id: str
    status: str


class ReturnLinePublic(BaseModel):
    sku: str
    quantity: int
    reason: str


class ReturnPublic(BaseModel):
    return_id: str
    order_id: str
    channel: str | None
    status: str
    created_at: datetime
    lines: list[ReturnLinePublic]
    location_id: str | None = Field(default=None, description="where it was received")
    authorized_at: datetime | None = Field(default=None, description="the same as created_at")
    received_at: datetime | None = None
    inspected_at: datetime | None = None
    refunded_at: datetime | None = Field(
        default=None, description="when finance paid the last of its refunds"
    )
    note: str | None = Field(default=None, description="why the return rests where it is")
    items: list["ReturnItemPublic"] = Field(default_factory=list)
    refunds: list["RefundPublic"] = Field(default_factory=list)


class SkuPolicyIn(RequestBody):
    returnable: bool
    reason: Reason | None = Field(default=None, validate_default=True)

    @field_validator("reason")
    @classmethod
    def _refusal_needs_a_reason(cls, reason: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("returnable") is False and reason is None:
            raise ValueError("say why the sku is not returnable")
        return reason


class SkuPolicyPublic(BaseModel):
    sku: str
    returnable: bool
    reason: str | None


class ChannelPolicyIn(RequestBody):
    window_days: int = Field(ge=0, le=3650)


class ChannelPolicyPublic(BaseModel):
    channel: str
    window_days: int
    default: bool = Field(description="no policy of its own: the service's default window")


# --- receipt, inspection, refunds ---

LocationRef = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
]
Person = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoControl
]


class ReceiptLineIn(RequestBody):
    sku: Sku
    quantity: Quantity


class ReceiptCreate(RequestBody):
    location_id: LocationRef
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=100)


class InspectionLineIn(RequestBody):
    sku: Sku
    quantity: Quantity
    grade: Grade


class InspectionCreate(RequestBody):
    lines: list[InspectionLineIn] = Field(min_length=1, max_length=400)


class RefundApproval(RequestBody):
    # The approver is the caller (the bearer token's subject). Older clients named them here;
    # naming anyone else is a 403.
    approver: Person | None = None


class GradedPublic(BaseModel):
    grade: Grade
    quantity: int
    disposition: Disposition


class ReturnItemPublic(BaseModel):
    """One SKU of a return: units authorized, received, and graded (by grade)."""

    sku: str
    authorized: int
    received: int
    graded: list[GradedPublic]


class RefundLinePublic(BaseModel):
    sku: str
    grade: Grade
    quantity: int
    unit_price: Money
    restocking_fee: Money
    amount: Money


class RefundPublic(BaseModel):
    refund_id: str
    return_id: str
    order_id: str
    status: str
    amount: Money = Field(description="what was requested of finance")
    goods: Money
    restocking_fee: Money
    shipping: Money
    capped: bool = Field(description="the order total left after earlier refunds cut it down")
    lines: list[RefundLinePublic]
    approver: str | None
    created_at: datetime
    approved_at: datetime | None
    refunded: Money | None = Field(default=None, description="what finance paid, once it has")
    shortfall: Money | None = Field(
        default=None, description="requested less paid: finance pays no more than it captured"
    )
    refunded_at: datetime | None = None


class RefundsPage(BaseModel):
    items: list[RefundPublic]
    next_cursor: str | None


class ReturnsPage(BaseModel):
    items: list[ReturnPublic]
    next_cursor: str | None


# --- summary ---


class Percentiles(BaseModel):
    p50: float | None = Field(description="seconds; None without returns")
    p95: float | None


class ProcessingTimes(BaseModel):
    returns: int = Field(description="returns whose refunds were all paid in the window")
    receipt_to_refund_seconds: Percentiles
    authorization_to_refund_seconds: Percentiles


class RefundsSummary(BaseModel):
    """Amounts are totals per currency, one entry each, sorted by currency."""

    issued: int = Field(description="refunds paid in the window")
    short: int = Field(description="of them, paid less than requested")
    requested: list[Money]
    refunded: list[Money]
    shortfall: list[Money]
    awaiting_approval: int = Field(description="refunds waiting for an approver now")
    awaiting_approval_amount: list[Money]


class ReturnsCount(BaseModel):
    total: int
    by_status: dict[str, int] = Field(description="every status, zero included")


class ReturnsSummary(BaseModel):
    """Returns authorized in the window by their status now, units graded in it by grade,
    refunds paid in it, refunds waiting for approval now, and how long the returns whose refunds
    were paid in it took."""

    since: datetime | None
    returns: ReturnsCount
    units_by_grade: dict[str, int] = Field(description="every grade, zero included")
    refunds: RefundsSummary
    processing: ProcessingTimes
