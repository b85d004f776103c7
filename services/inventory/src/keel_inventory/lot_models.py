"""Lot tables: which lots the units in each stock state are, where, and where they went.

Lots are a breakdown of the stock ledger's balances, kept beside it rather than in its key: the
lot ledger (`LotMovement`) records each lot's units coming into a state at a location (a
receipt, a transfer's arrival, a return, units found) and leaving it (an issue, a loss, a
transfer, an inspection), and `LotStock` is its projection. The lots of a (SKU, location,
state) never add up to more than its balance; the rest are units received without a lot.
"""

from datetime import date, datetime

from sqlalchemy import DateTime, Index
from sqlmodel import Field, SQLModel

from keel_inventory.domain import SELLABLE
from keel_inventory.models import ORDER_ID_LENGTH

LOT_LENGTH = 64


class Lot(SQLModel, table=True):
    """A lot of a SKU: when it expires (if it does), and when its first units came in."""

    __tablename__ = "lot"

    sku: str = Field(foreign_key="item.sku", primary_key=True, max_length=64)
    lot: str = Field(primary_key=True, max_length=LOT_LENGTH)
    expires_on: date | None = None
    first_received_at: datetime = Field(sa_type=DateTime(timezone=True))


class LotStock(SQLModel, table=True):
    """Units of one lot in one state at one location: the sum of its lot movements there."""

    __tablename__ = "lot_stock"

    sku: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(primary_key=True, max_length=64)
    lot: str = Field(primary_key=True, max_length=LOT_LENGTH)
    state: str = Field(primary_key=True, max_length=30, default=SELLABLE)
    quantity: int = 0


class LotMovement(SQLModel, table=True):
    """Units of one lot into (above 0) or out of (below 0) a state at a location; never updated
    or deleted. `reference` is the receipt, shipment, adjustment, transfer or return; `order_id`
    the order an issue shipped them to (a recall's answer), or that returned them."""

    __tablename__ = "lot_movement"
    __table_args__ = (Index("ix_lot_movement_lot", "sku", "lot"),)

    movement_id: str = Field(primary_key=True, max_length=36)
    sku: str = Field(max_length=64)
    location_id: str = Field(max_length=64)
    lot: str = Field(max_length=LOT_LENGTH)
    state: str = Field(max_length=30, default=SELLABLE)
    quantity: int
    kind: str = Field(max_length=30)
    reference: str = Field(max_length=200, index=True)
    order_id: str | None = Field(default=None, max_length=ORDER_ID_LENGTH)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
