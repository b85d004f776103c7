"""Fulfillment's events on fulfillment.shipment.v1."""

from keel_contracts.envelope import Message
from keel_contracts.values import Line

# --- fulfillment.shipment.v1 ---


class ShipmentCreated(Message):
    type = "shipment.created"
    shipment_id: str
    order_id: str
    location_id: str
    lines: tuple[Line, ...]


class ShipmentShipped(Message):
    type = "shipment.shipped"
    shipment_id: str
    order_id: str
    location_id: str
    lines: tuple[Line, ...]
    carrier: str
    tracking_number: str


class ShipmentDelivered(Message):
    type = "shipment.delivered"
    shipment_id: str
    order_id: str


class ShipmentCancelled(Message):
    """An open shipment stopped before it left (its order was cancelled)."""

    type = "shipment.cancelled"
    shipment_id: str
    order_id: str
    location_id: str
    reason: str
