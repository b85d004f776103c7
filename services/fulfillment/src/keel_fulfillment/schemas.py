"""HTTP models of the fulfillment API."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from keel_contracts.limits import NoControl
from keel_contracts.times import UtcDatetime
from keel_kit.schemas import RequestBody

# As long as the columns they land in: a warehouse's event id, a carrier, a tracking number.
Ref = Annotated[str, StringConstraints(min_length=1, max_length=100), NoControl]
# Fulfillment's own shipment ids (UUIDs) in a 36-character column.
ShipmentRef = Annotated[str, StringConstraints(min_length=1, max_length=36), NoControl]


# A warehouse reporting a shipment on its way: the examples of the OpenAPI document.
SHIPPED_EXAMPLE: dict[str, Any] = {
    "event_id": "e-2",
    "type": "shipped",
    "shipment_id": "0193a1c4-5b7e-7c2d-9f10-3e5a8b6c4d21",
    "carrier": "UPS",
    "tracking_number": "1Z999AA10123456784",
}


class WarehouseEventIn(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [SHIPPED_EXAMPLE]})

    event_id: Ref
    type: Literal["picked", "packed", "shipped", "delivered"]
    shipment_id: ShipmentRef
    carrier: Ref | None = None
    tracking_number: Ref | None = None

    @model_validator(mode="after")
    def _shipped_needs_tracking(self) -> "WarehouseEventIn":
        if self.type == "shipped" and not (self.carrier and self.tracking_number):
            raise ValueError("a shipped event needs carrier and tracking_number")
        return self


class EventAccepted(BaseModel):
    event_id: str
    shipment_id: str
    status: str
    duplicate: bool


# As many events as the order service's batch takes orders: a warehouse system's feed.
MAX_BATCH = 500


class WarehouseEventBatch(RequestBody):
    """Many events of one location in one request, applied in the order sent: a shipment's
    `picked` then `shipped` may come in the same batch."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {**SHIPPED_EXAMPLE, "event_id": "e-1", "type": "picked"},
                        SHIPPED_EXAMPLE,
                    ]
                }
            ]
        }
    )

    events: Annotated[list[WarehouseEventIn], Field(min_length=1, max_length=MAX_BATCH)]


class BatchOutcome(BaseModel):
    """One event's answer: `status` is what a single POST would have answered (202, 404, 409,
    422); `event` on success (a duplicate too), `problem` (an RFC 9457 document) otherwise."""

    event_id: str
    status: int
    event: EventAccepted | None = None
    problem: dict[str, Any] | None = None


class BatchAccepted(BaseModel):
    accepted: int
    refused: int
    results: list[BatchOutcome]


class ShipmentLinePublic(BaseModel):
    sku: str
    quantity: int


class ShipmentPublic(BaseModel):
    """A shipment; `next_events` are the warehouse events it may take now, in their order."""

    shipment_id: str
    order_id: str
    location_id: str
    status: str
    carrier: str | None
    tracking_number: str | None
    created_at: UtcDatetime
    next_events: list[str]
    lines: list[ShipmentLinePublic]


class ShipmentsPage(BaseModel):
    items: list[ShipmentPublic]
    next_cursor: str | None
