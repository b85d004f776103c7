"""Fulfillment tables: shipments, their lines, and the warehouse events already applied."""

from datetime import datetime

from sqlalchemy import DateTime, Index
from sqlmodel import Field, SQLModel

from keel_kit.tables import utcnow


class Shipment(SQLModel, table=True):
    __tablename__ = "shipment"
    # A location's queue, in pick order (GET /v1/warehouses/{location_id}/shipments).
    __table_args__ = (Index("ix_shipment_location_queue", "location_id", "status", "created_at"),)

    shipment_id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(index=True, max_length=36)
    location_id: str = Field(max_length=64)
    status: str = Field(max_length=20)
    carrier: str | None = Field(default=None, max_length=100)
    tracking_number: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ShipmentLine(SQLModel, table=True):
    __tablename__ = "shipment_line"

    shipment_id: str = Field(foreign_key="shipment.shipment_id", primary_key=True, max_length=36)
    sku: str = Field(primary_key=True, max_length=64)
    quantity: int


class WarehouseEvent(SQLModel, table=True):
    """A warehouse's event, kept by its own id so a resent event changes nothing."""

    __tablename__ = "warehouse_event"

    event_id: str = Field(primary_key=True, max_length=100)
    location_id: str = Field(max_length=64)
    shipment_id: str = Field(max_length=36)
    type: str = Field(max_length=20)
    received_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
