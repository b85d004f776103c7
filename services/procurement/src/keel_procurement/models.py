"""Procurement tables: suppliers, replenishment policies, purchase orders and their receipts,
the demand signal, replenishment runs and their suggestions.

A purchase order keeps the dates a supplier's reliability is measured from: when it was sent,
the date the supplier first promised (kept when it moves the expected date later) and when its
first goods arrived; each receipt keeps when its goods arrived.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, Numeric
from sqlmodel import Field, SQLModel

from keel_kit.tables import utcnow

CODE_LENGTH = 64
ID_LENGTH = 36
PERSON_LENGTH = 100


class Supplier(SQLModel, table=True):
    __tablename__ = "supplier"

    supplier_id: str = Field(primary_key=True, max_length=CODE_LENGTH)
    name: str = Field(max_length=200)
    lead_time_days: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ReplenishmentPolicy(SQLModel, table=True):
    """How a SKU is restocked at one location: from whom, to what service level, in what lots."""

    __tablename__ = "replenishment_policy"

    sku: str = Field(primary_key=True, max_length=CODE_LENGTH)
    location_id: str = Field(primary_key=True, max_length=CODE_LENGTH)
    supplier_id: str = Field(foreign_key="supplier.supplier_id", max_length=CODE_LENGTH)
    service_level: Decimal = Field(sa_type=Numeric(5, 4))
    min_order_qty: int
    pack_size: int
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class PurchaseOrder(SQLModel, table=True):
    __tablename__ = "purchase_order"

    po_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    supplier_id: str = Field(foreign_key="supplier.supplier_id", index=True, max_length=CODE_LENGTH)
    location_id: str = Field(max_length=CODE_LENGTH)
    currency: str = Field(max_length=3)
    status: str = Field(max_length=30)
    total: Decimal = Field(sa_type=Numeric(18, 4))
    # Fixed when drafted, so a later change of the threshold does not move a pending order.
    approvals_required: int
    # Who drafted it: a person (the principal), or the replenishment run that did. Nobody may
    # approve an order they drafted, so the two-person rule counts people, not roles.
    created_by: str = Field(max_length=PERSON_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    approved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    confirmed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # The date the supplier expects to deliver now; `promised_date` is the first one it gave,
    # which punctuality is measured against (moving a date later does not make it on time).
    expected_date: date | None = Field(default=None, sa_type=Date)
    promised_date: date | None = Field(default=None, sa_type=Date)
    first_received_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    received_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    cancelled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    cancel_reason: str | None = Field(default=None, max_length=200)


class PurchaseOrderLine(SQLModel, table=True):
    """One SKU of a purchase order (a SKU appears once) and how much of it has arrived."""

    __tablename__ = "purchase_order_line"

    po_id: str = Field(foreign_key="purchase_order.po_id", primary_key=True, max_length=ID_LENGTH)
    line_no: int = Field(primary_key=True)
    sku: str = Field(max_length=CODE_LENGTH)
    quantity: int
    unit_cost: Decimal = Field(sa_type=Numeric(18, 4))
    received_quantity: int = 0


class PurchaseOrderApproval(SQLModel, table=True):
    __tablename__ = "purchase_order_approval"

    po_id: str = Field(foreign_key="purchase_order.po_id", primary_key=True, max_length=ID_LENGTH)
    approver: str = Field(primary_key=True, max_length=PERSON_LENGTH)
    approved_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Receipt(SQLModel, table=True):
    """Goods that arrived against a purchase order, at one moment."""

    __tablename__ = "receipt"

    receipt_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    po_id: str = Field(foreign_key="purchase_order.po_id", index=True, max_length=ID_LENGTH)
    received_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ReceiptLine(SQLModel, table=True):
    __tablename__ = "receipt_line"

    receipt_id: str = Field(
        foreign_key="receipt.receipt_id", primary_key=True, max_length=ID_LENGTH
    )
    sku: str = Field(primary_key=True, max_length=CODE_LENGTH)
    quantity: int


class DemandSignal(SQLModel, table=True):
    """What procurement has seen of a SKU at a location: its daily demand as an EWMA (closed
    days; the open day is still being counted) and the units on hand by the stock events seen
    (received minus issued)."""

    __tablename__ = "demand_signal"

    sku: str = Field(primary_key=True, max_length=CODE_LENGTH)
    location_id: str = Field(primary_key=True, max_length=CODE_LENGTH)
    mean: Decimal = Field(default=Decimal(0), sa_type=Numeric(18, 6))
    variance: Decimal = Field(default=Decimal(0), sa_type=Numeric(18, 6))
    days: int = 0
    open_day: date | None = Field(default=None, sa_type=Date)
    open_quantity: int = 0
    on_hand: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ReplenishmentRun(SQLModel, table=True):
    """One review of every policy, asked for or the schedule's: when it ran and how much it made.
    Its suggestions name it, so they are read a page at a time rather than all with the run."""

    __tablename__ = "replenishment_run"

    run_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    suggestions_made: int
    purchase_orders_drafted: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ReplenishmentSuggestion(SQLModel, table=True):
    """One SKU at one location that a replenishment run found at or below its reorder point,
    with the numbers that explain the quantity, and the draft purchase order it went on."""

    __tablename__ = "replenishment_suggestion"

    suggestion_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    run_id: str = Field(index=True, max_length=ID_LENGTH)
    sku: str = Field(max_length=CODE_LENGTH)
    location_id: str = Field(max_length=CODE_LENGTH)
    supplier_id: str = Field(max_length=CODE_LENGTH)
    status: str = Field(max_length=30)
    po_id: str | None = Field(default=None, max_length=ID_LENGTH)
    mean_daily_demand: Decimal = Field(sa_type=Numeric(18, 4))
    demand_sigma: Decimal = Field(sa_type=Numeric(18, 4))
    lead_time_days: Decimal = Field(sa_type=Numeric(18, 4))
    lead_time_source: str = Field(max_length=20)
    # The measured spread of the lead time, when the safety stock included it (None: it did not).
    lead_time_sigma: Decimal | None = Field(default=None, sa_type=Numeric(18, 4))
    review_days: int
    service_level: Decimal = Field(sa_type=Numeric(5, 4))
    z: Decimal = Field(sa_type=Numeric(8, 4))
    # None on suggestions made before it was recorded.
    safety_stock: Decimal | None = Field(default=None, sa_type=Numeric(18, 4))
    reorder_point: Decimal = Field(sa_type=Numeric(18, 4))
    order_up_to: Decimal = Field(sa_type=Numeric(18, 4))
    on_hand: int
    on_order: int
    position: int
    raw_quantity: int
    min_order_qty: int
    pack_size: int
    quantity: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
