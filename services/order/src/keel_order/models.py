"""Order tables: orders, their lines, history and holds, channels and known customers.

Statuses and states are stored as the plain strings of their domain enums (`Status`,
`StockState`...), which the use cases compare and assign: the columns are strings in the
database, and read back as strings.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Numeric, Table, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from keel_kit.tables import utcnow
from keel_order.domain import PaymentState, StockState

# A hold's reference: a purchase order id, as long as inventory lets one be.
REFERENCE_LENGTH = 100


class Channel(SQLModel, table=True):
    __tablename__ = "channel"

    channel_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    market_country: str = Field(max_length=2)
    backorder_policy: str = Field(max_length=20)  # a domain.BackorderPolicy
    release_delay_seconds: int = 0
    # Units one customer may have in this channel's orders still taking stock; None: no cap.
    max_units_per_customer: int | None = None
    # Told to the other services as it is now (`channel.registered`): cleared by a change.
    announced: bool = False


class Customer(SQLModel, table=True):
    """Customers seen so far: the fraud rules treat a first order differently."""

    __tablename__ = "customer"

    customer_id: str = Field(primary_key=True, max_length=100)
    email: str = Field(max_length=320)
    first_order_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Order(SQLModel, table=True):
    __tablename__ = "sales_order"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    order_id: str = Field(primary_key=True, max_length=36)
    channel: str = Field(foreign_key="channel.channel_id", max_length=64)
    external_id: str = Field(index=True, max_length=100)  # found by itself in a search
    customer_id: str = Field(index=True, max_length=100)
    currency: str = Field(max_length=3)
    goods_total: Decimal = Field(sa_type=Numeric(18, 2))
    shipping_amount: Decimal = Field(sa_type=Numeric(18, 2))
    shipping_address: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    payment_method: str = Field(max_length=20)
    status: str = Field(index=True, max_length=20)  # a domain.Status
    stock_state: str = Field(default=StockState.PENDING, max_length=20)
    payment_state: str = Field(default=PaymentState.PENDING, max_length=20)
    reservation_id: str | None = Field(default=None, max_length=36)
    # While backordered: when inventory expects goods on order to cover it (None: not known).
    promised_date: date | None = None
    allocations: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    rule_set_version: str = Field(max_length=20)
    fraud_score: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))

    # Loaded with the order, always: every saga step looks at them, and an async session cannot
    # load a relationship lazily on attribute access. Read-only views (`viewonly`): new rows go
    # into the session on their own (the intake's inserts, lifecycle.open_hold, shipping), and a
    # loaded line or hold is flushed when changed as any loaded object is. So a flush of a
    # batch's changed orders does not walk each order's collections looking for changes, nor
    # does adding an order to the session cascade through them.
    lines: list["OrderLine"] = Relationship(
        sa_relationship_kwargs={
            "lazy": "selectin",
            "order_by": "OrderLine.line_no",
            "viewonly": True,
        }
    )
    holds: list["OrderHold"] = Relationship(
        sa_relationship_kwargs={"lazy": "selectin", "order_by": "OrderHold.id", "viewonly": True}
    )
    shipments: list["OrderShipment"] = Relationship(
        sa_relationship_kwargs={"lazy": "selectin", "viewonly": True}
    )

    @property
    def total(self) -> Decimal:
        return self.goods_total + self.shipping_amount


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"

    order_id: str = Field(foreign_key="sales_order.order_id", primary_key=True, max_length=36)
    line_no: int = Field(primary_key=True)
    sku: str = Field(max_length=64)
    quantity: int
    unit_price: Decimal = Field(sa_type=Numeric(18, 2))
    reserved: int = 0
    shipped: int = 0


class OrderEvent(SQLModel, table=True):
    """The order's history: every status it took, when, and why."""

    __tablename__ = "order_history"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="sales_order.order_id", index=True, max_length=36)
    status: str = Field(max_length=20)
    reason: str = Field(max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class OrderHold(SQLModel, table=True):
    """An exception on the order: typed, owned by a role, explained, resolved or not."""

    __tablename__ = "order_hold"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="sales_order.order_id", index=True, max_length=36)
    type: str = Field(max_length=40)  # a domain.HoldType
    reason: str = Field(max_length=500)
    owner_role: str = Field(max_length=30)  # a domain.Role
    rule_set_version: str = Field(max_length=20)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    due_at: datetime = Field(index=True, sa_type=DateTime(timezone=True))  # opened_at + SLA
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    resolution: str | None = Field(default=None, max_length=500)  # a domain.Resolution
    resolution_note: str | None = Field(default=None, max_length=500)
    resolved_by: str | None = Field(default=None, max_length=100)
    # Who is working on it (claimed from the exception queue), so two people do not both act.
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Whom it went up to once overdue (exception_queue.escalated_to), and when it last went up.
    escalated_to: str | None = Field(default=None, max_length=30)  # a Role
    escalated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # What the hold is about beside the order (a supplier_delay's purchase order), so that one
    # query finds every order it touches.
    reference: str | None = Field(default=None, index=True, max_length=REFERENCE_LENGTH)


class OrderShipment(SQLModel, table=True):
    """The order's view of its shipments, learnt from fulfillment's events."""

    __tablename__ = "order_shipment"

    shipment_id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(foreign_key="sales_order.order_id", index=True, max_length=36)
    location_id: str = Field(max_length=64)
    status: str = Field(max_length=20)  # a domain.ShipmentStatus


class CustomerNotification(SQLModel, table=True):
    """A message to the customer about their order, recorded when the change it tells of
    commits; `sent_at` is set once the notification port has taken it."""

    __tablename__ = "customer_notification"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(index=True, max_length=36)
    customer_id: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    message: str = Field(max_length=500)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    sent_at: datetime | None = Field(default=None, index=True, sa_type=DateTime(timezone=True))


def core_table(model: type[SQLModel]) -> Table:
    """A model's Core table: bulk inserts through it skip the ORM's per-row bookkeeping."""
    return SQLModel.metadata.tables[str(model.__tablename__)]
