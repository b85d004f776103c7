"""Finance tables: the journal is append-only; an entry's lines always balance; one payment per
order; one refund per refund request."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from keel_kit.tables import utcnow


class JournalEntry(SQLModel, table=True):
    __tablename__ = "journal_entry"
    # One entry per source document and kind: a second posting of one receipt cannot exist.
    __table_args__ = (UniqueConstraint("source_type", "source_id"),)

    entry_id: str = Field(primary_key=True, max_length=36)
    source_type: str = Field(max_length=50)
    source_id: str = Field(index=True, max_length=64)
    currency: str = Field(max_length=3)
    memo: str = Field(max_length=200)
    order_id: str | None = Field(default=None, index=True, max_length=36)
    posted_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class OrderChannel(SQLModel, table=True):
    """Which channel sold an order, learnt from order.placed, so margins can be cut by channel."""

    __tablename__ = "order_channel"

    order_id: str = Field(primary_key=True, max_length=36)
    channel: str = Field(max_length=64)


ORDER_CHANNEL = SQLModel.metadata.tables[OrderChannel.__tablename__]


class JournalLine(SQLModel, table=True):
    __tablename__ = "journal_line"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: str = Field(foreign_key="journal_entry.entry_id", index=True, max_length=36)
    account: str = Field(index=True, max_length=10)
    debit: Decimal = Field(sa_type=Numeric(18, 2))
    credit: Decimal = Field(sa_type=Numeric(18, 2))


# The journal's tables, for entries staged as rows (`keel_finance.repository.add_entry`).
JOURNAL_ENTRY = SQLModel.metadata.tables[JournalEntry.__tablename__]
JOURNAL_LINE = SQLModel.metadata.tables[JournalLine.__tablename__]


class Payment(SQLModel, table=True):
    """One order's payment: what the provider decided, and what was captured or voided since.

    The row is the answer to every repeated command for the order, so the provider is asked once.
    The card token is never stored: it is the provider's secret, needed for one call only.
    """

    __tablename__ = "payment"

    order_id: str = Field(primary_key=True, max_length=64)
    authorization_id: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=20)
    method: str = Field(max_length=50)
    amount: Decimal = Field(sa_type=Numeric(18, 4))
    currency: str = Field(max_length=3)
    captured_amount: Decimal = Field(default=Decimal(0), sa_type=Numeric(18, 4))
    refunded_amount: Decimal = Field(default=Decimal(0), sa_type=Numeric(18, 4))
    reason: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


# Payments are decided as rows, staged (`keel_finance.repository.add_payment`).
PAYMENT = SQLModel.metadata.tables[Payment.__tablename__]


class Refund(SQLModel, table=True):
    """One refund request carried out, keyed by the returns service's refund id, so a request
    delivered again (under any event id) refunds nothing twice. `amount` is what was refunded:
    the requested amount capped at what was captured and not yet refunded; the difference is the
    shortfall the customer did not get back."""

    __tablename__ = "payment_refund"

    refund_id: str = Field(primary_key=True, max_length=64)
    order_id: str = Field(index=True, max_length=64)
    return_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    requested_amount: Decimal = Field(sa_type=Numeric(18, 4))
    amount: Decimal = Field(sa_type=Numeric(18, 4))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))

    @property
    def shortfall(self) -> Decimal:
        return self.requested_amount - self.amount


class StockValuation(SQLModel, table=True):
    """A SKU's stock at moving average cost: the units on hand and what they cost, in cents.

    Receipts and returns add to it and issues take out exactly what they post, so the values
    summed over all SKUs equal the journal's inventory account. Units issued beyond the recorded
    stock are taken out all the same, driving the quantity below zero (logged), so the account
    and the valuations never part.
    """

    __tablename__ = "stock_valuation"

    sku: str = Field(primary_key=True, max_length=64)
    currency: str = Field(max_length=3)
    quantity: int
    # Wider than one amount: up to a 32-bit count of units at the dearest unit cost the doors
    # accept (keel_contracts.limits.MAX_UNIT_AMOUNT), about 2.2 x 10**17.
    value: Decimal = Field(sa_type=Numeric(24, 2))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class IssuedStock(SQLModel, table=True):
    """What one issue of an order's units of a SKU was costed at (its movement in inventory's
    ledger): returned units of the order come back into stock at that cost."""

    __tablename__ = "stock_issue_cost"
    __table_args__ = (Index("ix_stock_issue_cost_order_sku", "order_id", "sku"),)

    movement_id: str = Field(primary_key=True, max_length=64)
    order_id: str = Field(max_length=64)
    sku: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    quantity: int
    value: Decimal = Field(sa_type=Numeric(18, 2))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


ISSUED_STOCK = SQLModel.metadata.tables[IssuedStock.__tablename__]


class ReturnedStock(SQLModel, table=True):
    """One movement of returned units that finance valued, keyed by inventory's movement id, so
    a `stock.returned` delivered again under a new event id values nothing twice. `value` is
    what the units came back into inventory at (a write-off then took it out again)."""

    __tablename__ = "stock_return_cost"
    __table_args__ = (Index("ix_stock_return_cost_order_sku", "order_id", "sku"),)

    movement_id: str = Field(primary_key=True, max_length=64)
    return_id: str = Field(max_length=100)
    order_id: str = Field(max_length=64)
    sku: str = Field(max_length=64)
    disposition: str = Field(max_length=20)
    currency: str = Field(max_length=3)
    quantity: int
    value: Decimal = Field(sa_type=Numeric(18, 2))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


RETURNED_STOCK = SQLModel.metadata.tables[ReturnedStock.__tablename__]


class AdjustedStock(SQLModel, table=True):
    """One adjustment of a SKU's units that finance valued (units found, or lost: the quantity
    is signed), keyed by inventory's movement id, so a `stock.adjusted` delivered again under a
    new event id moves nothing twice, free goods included. `value` is what the units changed
    inventory's value by, signed as the quantity is."""

    __tablename__ = "stock_adjustment_cost"

    movement_id: str = Field(primary_key=True, max_length=64)
    adjustment_id: str = Field(max_length=64)
    sku: str = Field(max_length=64)
    location_id: str = Field(max_length=64)
    reason_code: str = Field(max_length=30)
    currency: str = Field(max_length=3)
    quantity: int
    value: Decimal = Field(sa_type=Numeric(18, 2))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


ADJUSTED_STOCK = SQLModel.metadata.tables[AdjustedStock.__tablename__]
