"""Lot tables: which lots the sellable units are, where, and where each lot's units went.

Lots are a breakdown of sellable stock, kept beside the stock ledger rather than in its key: the
lot ledger (`LotMovement`) records each lot's units coming in (a receipt, a transfer's arrival,
units found) and going out (an issue, a loss, a transfer), and `LotStock` is its projection.
A location's lots never add up to more than its sellable units; the rest are units received
without a lot.
"""

from datetime import date, datetime

from sqlalchemy import DateTime, Index
from sqlmodel import Field, SQLModel

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
    """Sellable units of one lot at one location: the sum of its lot movements there."""

    __tablename__ = "lot_stock"

    sku: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(primary_key=True, max_length=64)
    lot: str = Field(primary_key=True, max_length=LOT_LENGTH)
    quantity: int = 0


class LotMovement(SQLModel, table=True):
    """Units of one lot in (above 0) or out (below 0) at a location; never updated or deleted.
    `reference` is the receipt, shipment, adjustment or transfer; `order_id` the order an issue
    shipped them to (a recall's answer)."""

    __tablename__ = "lot_movement"
    __table_args__ = (Index("ix_lot_movement_lot", "sku", "lot"),)

    movement_id: str = Field(primary_key=True, max_length=36)
    sku: str = Field(max_length=64)
    location_id: str = Field(max_length=64)
    lot: str = Field(max_length=LOT_LENGTH)
    quantity: int
    kind: str = Field(max_length=30)
    reference: str = Field(max_length=200, index=True)
    order_id: str | None = Field(default=None, max_length=ORDER_ID_LENGTH)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
