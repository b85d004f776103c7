"""Returns tables: what shipped per order (a projection of fulfillment's and the order
service's events), the return authorizations, and the return policies."""

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel

from keel_kit.tables import utcnow


class ShippedOrder(SQLModel, table=True):
    """An order something of which was released or shipped; its row serialises the order's
    return authorizations and projection updates.

    Its items and shipments carry no foreign key to it: without ORM relationships SQLAlchemy
    does not order the INSERTs of one flush by foreign keys, and a batch writes all three."""

    __tablename__ = "shipped_order"

    order_id: str = Field(primary_key=True, max_length=36)
    channel: str | None = Field(default=None, max_length=64)  # from order.released
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


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


class ReturnAuthorization(SQLModel, table=True):
    __tablename__ = "return_authorization"

    return_id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(index=True, max_length=36)
    channel: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ReturnLine(SQLModel, table=True):
    __tablename__ = "return_line"

    return_id: str = Field(
        foreign_key="return_authorization.return_id", primary_key=True, max_length=36
    )
    line_no: int = Field(primary_key=True)
    sku: str = Field(max_length=64)
    quantity: int
    reason: str = Field(max_length=200)


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
