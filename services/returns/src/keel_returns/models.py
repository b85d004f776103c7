"""Returns tables: what was ordered and shipped per order (a projection of fulfillment's and
the order service's events), the return authorizations with their receipts and grades, the
refunds, and the return policies."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Numeric, false
from sqlmodel import Field, SQLModel

from keel_kit.tables import utcnow


class ShippedOrder(SQLModel, table=True):
    """An order that was placed, released or shipped; its row serialises the order's return
    authorizations, inspections, refunds and projection updates.

    The money columns come from `order.placed` (None until it is seen, or for prices its
    producer did not give); `refunded` counts every refund created for the order, approved or
    not, so that refunds waiting for approval cannot together exceed the total.

    Its items and shipments carry no foreign key to it: without ORM relationships SQLAlchemy
    does not order the INSERTs of one flush by foreign keys, and a batch writes all three."""

    __tablename__ = "shipped_order"

    order_id: str = Field(primary_key=True, max_length=36)
    channel: str | None = Field(default=None, max_length=64)  # from order.released
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    currency: str | None = Field(default=None, max_length=3)
    total: Decimal | None = Field(default=None, sa_type=Numeric(18, 4))
    shipping: Decimal | None = Field(default=None, sa_type=Numeric(18, 4))
    ordered: dict[str, int] | None = Field(default=None, sa_column=Column(JSON))
    unit_prices: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))
    refunded: Decimal = Field(
        default=Decimal("0"), sa_column=Column(Numeric(18, 2), nullable=False, server_default="0")
    )
    shipping_refunded: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


class ShippedItem(SQLModel, table=True):
    """One SKU of an order: how many shipped, how many are on return authorizations, and
    where its return window starts (the last delivery, or shipment until delivered)."""

    __tablename__ = "shipped_item"

    order_id: str = Field(primary_key=True, max_length=36)
    sku: str = Field(primary_key=True, max_length=64)
    shipped: int = 0
    returned: int = 0
    window_from: datetime = Field(sa_type=DateTime(timezone=True))
    window_from_delivery: bool = False


class ShipmentSeen(SQLModel, table=True):
    """A shipment by its id, so that a repeated shipped or delivered event counts once."""

    __tablename__ = "shipment_seen"

    shipment_id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(index=True, max_length=36)
    lines: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    shipped_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    delivered_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


SHIPPED_ORDER = SQLModel.metadata.tables[ShippedOrder.__tablename__]
SHIPPED_ITEM = SQLModel.metadata.tables[ShippedItem.__tablename__]
SHIPMENT_SEEN = SQLModel.metadata.tables[ShipmentSeen.__tablename__]


# The same three rows as a consumer batch adds them: plain objects with exactly their table's
# columns, staged for the batch's bulk insert (`repository.add_order` ...) instead of built and
# flushed as ORM objects, which cost several times more (bench/README.md).


@dataclass(kw_only=True)
class NewOrder:
    order_id: str
    updated_at: datetime
    channel: str | None = None
    currency: str | None = None
    total: Decimal | None = None
    shipping: Decimal | None = None
    ordered: dict[str, int] | None = None
    unit_prices: dict[str, str] | None = None
    refunded: Decimal = Decimal("0")
    shipping_refunded: bool = False


@dataclass(kw_only=True)
class NewItem:
    order_id: str
    sku: str
    window_from: datetime
    window_from_delivery: bool
    shipped: int = 0
    returned: int = 0


@dataclass(kw_only=True)
class NewShipment:
    shipment_id: str
    order_id: str
    lines: dict[str, int] = field(default_factory=dict)
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None


class ReturnAuthorization(SQLModel, table=True):
    __tablename__ = "return_authorization"
    # The returns in one status, oldest first (GET /v1/returns): the warehouse's queues of
    # returns to receive and to inspect are a few among every return ever made.
    __table_args__ = (
        Index("ix_return_authorization_status_queue", "status", "created_at", "return_id"),
    )

    return_id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(index=True, max_length=36)
    channel: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=30)
    # when it was authorized; it, inspected_at and refunded_at are indexed for the summary
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=DateTime(timezone=True), index=True
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    location_id: str | None = Field(default=None, max_length=64)  # where it was received
    received_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    inspected_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True), index=True)
    # when finance paid the last of its refunds (payment.refunded): the return is refunded
    refunded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True), index=True)
    note: str | None = Field(default=None, max_length=300)  # why it rests where it is


class ReturnLine(SQLModel, table=True):
    __tablename__ = "return_line"

    return_id: str = Field(
        foreign_key="return_authorization.return_id", primary_key=True, max_length=36
    )
    line_no: int = Field(primary_key=True)
    sku: str = Field(max_length=64)
    quantity: int
    reason: str = Field(max_length=200)


class ReturnReceiptLine(SQLModel, table=True):
    """Units of one SKU received on a return."""

    __tablename__ = "return_receipt_line"

    return_id: str = Field(
        foreign_key="return_authorization.return_id", primary_key=True, max_length=36
    )
    sku: str = Field(primary_key=True, max_length=64)
    quantity: int


class ReturnGrade(SQLModel, table=True):
    """Units of one SKU of a return given one grade at inspection."""

    __tablename__ = "return_grade"

    return_id: str = Field(
        foreign_key="return_authorization.return_id", primary_key=True, max_length=36
    )
    sku: str = Field(primary_key=True, max_length=64)
    grade: str = Field(primary_key=True, max_length=1)
    quantity: int


class Refund(SQLModel, table=True):
    """A refund due for a return; `lines` keeps the per-(SKU, grade) workings, amounts as
    decimal strings. `amount` is what was requested of finance; `refunded_amount` what finance
    paid (never more), `shortfall` the difference, both None until paid."""

    __tablename__ = "refund"

    refund_id: str = Field(primary_key=True, max_length=36)
    return_id: str = Field(foreign_key="return_authorization.return_id", index=True, max_length=36)
    order_id: str = Field(index=True, max_length=36)
    status: str = Field(max_length=20, index=True)
    currency: str = Field(max_length=3)
    amount: Decimal = Field(sa_type=Numeric(18, 2))
    goods: Decimal = Field(sa_type=Numeric(18, 2))
    restocking_fee: Decimal = Field(sa_type=Numeric(18, 2))
    shipping: Decimal = Field(sa_type=Numeric(18, 2))
    capped: bool
    lines: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    approver: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    approved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    refunded_amount: Decimal | None = Field(default=None, sa_type=Numeric(18, 2))
    shortfall: Decimal | None = Field(default=None, sa_type=Numeric(18, 2))
    refunded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True), index=True)


class SkuReturnPolicy(SQLModel, table=True):
    """A SKU that may not come back (hygiene, final sale ...) and why; absent means returnable."""

    __tablename__ = "sku_return_policy"

    sku: str = Field(primary_key=True, max_length=64)
    returnable: bool
    reason: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ChannelReturnPolicy(SQLModel, table=True):
    """A channel's return window; a channel without one gets the service's default."""

    __tablename__ = "channel_return_policy"

    channel: str = Field(primary_key=True, max_length=64)
    window_days: int
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
