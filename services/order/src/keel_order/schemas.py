"""HTTP models of the order API. Bad input is a 422 naming the field; unknown fields are refused
so a typo never passes silently."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from keel_contracts.values import Currency, Sku

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Email = Annotated[str, StringConstraints(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelCreate(Strict):
    channel_id: Code
    name: Text
    market_country: Country
    backorder_policy: Literal["backorder", "reject"]
    release_delay_seconds: Annotated[int, Field(ge=0, le=86_400)] = 0


class ChannelPublic(ChannelCreate):
    pass


class CustomerIn(Strict):
    customer_id: Code
    email: Email


class LineIn(Strict):
    sku: Sku
    quantity: Annotated[int, Field(gt=0, le=10_000)]
    unit_price: Price


class Address(Strict):
    name: Text
    line1: Text
    line2: Text | None = None
    city: Text
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    country: Country


class Shipping(Strict):
    amount: Price
    address: Address


class PaymentIn(Strict):
    method: Literal["card"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class OrderCreate(Strict):
    channel: Code
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    customer: CustomerIn
    currency: Currency
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=200)]
    shipping: Shipping
    payment: PaymentIn


class OrderAccepted(BaseModel):
    order_id: str
    status: str


MAX_BATCH = 500


class BatchItem(Strict):
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    order: OrderCreate


class OrderBatch(Strict):
    """Many orders in one request, each with its own key: a retried batch replays each answer,
    and an order first sent alone and then in a batch (or the reverse) is still one order."""

    orders: Annotated[list[BatchItem], Field(min_length=1, max_length=MAX_BATCH)]


class BatchOutcome(BaseModel):
    """One order's answer: `status` is what a single POST would have answered (202, 409, 422);
    `order` on success, `problem` (an RFC 9457 document) otherwise."""

    idempotency_key: str
    status: int
    replayed: bool = False
    order: OrderAccepted | None = None
    problem: dict[str, Any] | None = None


class BatchAccepted(BaseModel):
    accepted: int
    refused: int
    results: list[BatchOutcome]


class LinePublic(BaseModel):
    sku: str
    quantity: int
    unit_price: Decimal
    reserved: int
    shipped: int


class HoldPublic(BaseModel):
    hold_id: int = Field(validation_alias="id")
    type: str
    reason: str
    reference: str | None
    owner_role: str
    rule_set_version: str
    opened_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    resolution: str | None


class HistoryEntry(BaseModel):
    status: str
    at: datetime
    reason: str


class OrderPublic(BaseModel):
    order_id: str
    channel: str
    external_id: str
    status: str
    currency: str
    total: Decimal
    rule_set_version: str
    fraud_score: int
    lines: list[LinePublic]
    holds: list[HoldPublic]
    history: list[HistoryEntry]


class CancelRequest(Strict):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] = "cancelled on request"
