"""Inventory tables. The movement ledger is append-only; balances are its projection."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlmodel import Field, SQLModel

from keel_kit.tables import utcnow


class Item(SQLModel, table=True):
    __tablename__ = "item"

    sku: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    unit_cost: Decimal = Field(sa_type=Numeric(18, 4))
    currency: str = Field(max_length=3)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Location(SQLModel, table=True):
    __tablename__ = "location"

    location_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    country: str = Field(max_length=2)
    postal_code: str = Field(max_length=20)


class StockMovement(SQLModel, table=True):
    """One change to one state of one SKU at one location; never updated or deleted."""

    __tablename__ = "stock_movement"

    movement_id: str = Field(primary_key=True, max_length=36)
    sku: str = Field(foreign_key="item.sku", index=True, max_length=64)
    location_id: str = Field(foreign_key="location.location_id", max_length=64)
    state: str = Field(max_length=30)
    quantity: int
    kind: str = Field(max_length=30)
    unit_cost: Decimal = Field(sa_type=Numeric(18, 4))
    reference: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class StockBalance(SQLModel, table=True):
    """Quantity per (SKU, location, state): the sum of that key's movements."""

    __tablename__ = "stock_balance"

    sku: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(primary_key=True, max_length=64)
    state: str = Field(primary_key=True, max_length=30)
    quantity: int = 0
