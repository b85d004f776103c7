"""Fulfillment HTTP API: warehouses report events; anyone may look up an order's shipments."""

from fastapi import APIRouter, status

from keel_fulfillment import service
from keel_fulfillment.context import FulfillmentDep
from keel_fulfillment.schemas import EventAccepted, ShipmentPublic, WarehouseEventIn

router = APIRouter(prefix="/v1", tags=["fulfillment"])


@router.post("/warehouses/{location_id}/events", status_code=status.HTTP_202_ACCEPTED)
async def warehouse_event(
    location_id: str, body: WarehouseEventIn, fulfillment: FulfillmentDep
) -> EventAccepted:
    """Picked, packed, shipped or delivered; idempotent on the warehouse's `event_id`."""
    async with fulfillment.unit_of_work() as uow:
        return await service.record_warehouse_event(uow=uow, location_id=location_id, cmd=body)


@router.get("/shipments")
async def list_shipments(order_id: str, fulfillment: FulfillmentDep) -> list[ShipmentPublic]:
    async with fulfillment.unit_of_work() as uow:
        return await service.shipments(uow=uow, order_id=order_id)
