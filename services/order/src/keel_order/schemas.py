"""HTTP models of the order API. Bad input is a 422 naming the field; unknown fields are refused
so a typo never passes silently."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from keel_contracts.limits import (
    NoControl,
    UnitPrice,
    check_price_places,
    check_total,
    check_units_per_sku,
)
from keel_contracts.times import UtcDatetime
from keel_contracts.values import Currency, Sku
from keel_kit.schemas import RequestBody
from keel_order.domain import BackorderPolicy

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Text = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), NoControl
]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
# A unit price or shipping amount: below 10**8 and to the cent (keel_contracts.limits).
Price = UnitPrice
Email = Annotated[
    str,
    StringConstraints(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    NoControl,
]
# The order's own cap on a line, well within keel_contracts.limits.MAX_QUANTITY.
MAX_LINE_QUANTITY = 10_000
# At most 200 lines of at most MAX_LINE_QUANTITY units: the total is still checked as a whole.
MAX_ORDER_LINES = 200


class ChannelCreate(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "channel_id": "marketplace-a",
                    "name": "Marketplace A",
                    "market_country": "US",
                    "backorder_policy": "reject",
                }
            ]
        }
    )

    channel_id: Code
    name: Text
    market_country: Country
    backorder_policy: BackorderPolicy
    release_delay_seconds: Annotated[int, Field(ge=0, le=86_400)] = 0
    max_units_per_customer: Annotated[
        int | None,
        Field(
            ge=1,
            le=1_000_000,
            description="units one customer may have in this channel's orders still taking "
            "stock (not yet shipped, cancelled or rejected); an order that would pass it is "
            "refused, so nobody hoards stock; unset: no cap",
        ),
    ] = None


class ChannelChange(RequestBody):
    """The policies to change; a field left out stays as it is, and
    `"max_units_per_customer": null` lifts the cap."""

    name: Text | None = None
    backorder_policy: BackorderPolicy | None = None
    release_delay_seconds: Annotated[int | None, Field(ge=0, le=86_400)] = None
    max_units_per_customer: Annotated[int | None, Field(ge=1, le=1_000_000)] = None


class ChannelPublic(ChannelCreate):
    name: str  # as stored: a channel created before today's bounds still reads back


class CustomerIn(RequestBody):
    customer_id: Code
    email: Email


class LineIn(RequestBody):
    sku: Sku
    quantity: Annotated[int, Field(gt=0, le=MAX_LINE_QUANTITY)]
    unit_price: Price


class Address(RequestBody):
    name: Text
    line1: Text
    line2: Text | None = None
    city: Text
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20), NoControl]
    country: Country


class Shipping(RequestBody):
    amount: Price
    address: Address


class PaymentIn(RequestBody):
    method: Literal["card"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=100), NoControl]


# What a web store sends for one order: the examples of the OpenAPI document (a test validates
# them against it).
ORDER_EXAMPLE: dict[str, Any] = {
    "channel": "web",
    "external_id": "1001",
    "customer": {"customer_id": "C-1", "email": "ann@example.com"},
    "currency": "USD",
    "lines": [{"sku": "MUG-1", "quantity": 2, "unit_price": "12.00"}],
    "shipping": {
        "amount": "4.99",
        "address": {
            "name": "Ann",
            "line1": "1 Main St",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
        },
    },
    "payment": {"method": "card", "token": "tok_visa"},
}


class OrderCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_EXAMPLE]})

    channel: Code
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=100), NoControl]
    customer: CustomerIn
    currency: Currency
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)]
    shipping: Shipping
    payment: PaymentIn

    @property
    def goods(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))

    @model_validator(mode="after")
    def _fits_the_ledger(self) -> "OrderCreate":
        """Prices in the currency's places, units of a SKU that one line of a reservation or an
        issue carries, and a total one amount can carry: finance posts it as one journal line
        and authorizes it as one payment."""
        check_units_per_sku("OrderCreate", ((line.sku, line.quantity) for line in self.lines))
        for index, line in enumerate(self.lines):
            check_price_places(
                "OrderCreate", ("lines", index, "unit_price"), line.unit_price, self.currency
            )
        check_price_places(
            "OrderCreate", ("shipping", "amount"), self.shipping.amount, self.currency
        )
        goods = self.goods
        check_total("OrderCreate", ("lines",), goods, "the order's goods (quantity x unit price)")
        check_total(
            "OrderCreate",
            ("shipping", "amount"),
            goods + self.shipping.amount,
            "the order's total (goods + shipping)",
        )
        return self


class OrderAccepted(BaseModel):
    order_id: str
    status: str


MAX_BATCH = 500


class BatchItem(RequestBody):
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=200), NoControl]
    order: OrderCreate


class OrderBatch(RequestBody):
    """Many orders in one request, each with its own key: a retried batch replays each answer,
    and an order first sent alone and then in a batch (or the reverse) is still one order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"orders": [{"idempotency_key": "web-1001", "order": ORDER_EXAMPLE}]}]
        }
    )

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
    """One order; `cancellable` says whether a cancellation would be taken now."""

    order_id: str
    channel: str
    external_id: str
    customer_id: str
    status: str
    cancellable: bool
    currency: str
    total: Decimal
    rule_set_version: str
    fraud_score: int
    lines: list[LinePublic]
    holds: list[HoldPublic]
    history: list[HistoryEntry]
    promised_date: date | None = Field(
        default=None,
        description="while backordered: when inventory expects goods on order to cover it",
    )


class OrderSummary(BaseModel):
    """An order as a search lists it; `GET /v1/orders/{order_id}` has the rest."""

    order_id: str
    channel: str
    external_id: str
    customer_id: str
    status: str
    currency: str
    total: Decimal
    created_at: UtcDatetime


class OrdersPage(BaseModel):
    items: list[OrderSummary]
    next_cursor: str | None  # null at the end


class CancelRequest(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "customer changed mind"}]})

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500), NoControl] = (
        "cancelled on request"
    )


class ShippedOrderPublic(BaseModel):
    """An order every unit of which has left: finance has earned its sale (`keel check` matches
    the two, order by order)."""

    order_id: str
    currency: str
    total: Decimal


class ShippedOrdersPage(BaseModel):
    items: list[ShippedOrderPublic]
    next_cursor: str | None  # null at the end
