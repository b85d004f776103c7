"""Fulfillment HTTP API: warehouses report events; anyone may look up an order's shipments."""

from fastapi import APIRouter, status

from keel_fulfillment import service
from keel_fulfillment.schemas import EventAccepted, ShipmentPublic, WarehouseEventIn
from keel_kit.app import RuntimeDep

router = APIRouter(prefix="/v1", tags=["fulfillment"])


@router.post("/warehouses/{location_id}/events", status_code=status.HTTP_202_ACCEPTED)
async def warehouse_event(
    location_id: str, body: WarehouseEventIn, runtime: RuntimeDep
) -> EventAccepted:
    """Picked, packed, shipped or delivered; idempotent on the warehouse's `event_id`."""
    async with runtime.db.transaction() as session:
        return await service.record_warehouse_event(
            session=session, outbox=runtime.outbox, location_id=location_id, cmd=body
        )


@router.get("/shipments")
async def list_shipments(order_id: str, runtime: RuntimeDep) -> list[ShipmentPublic]:
    async with runtime.db.transaction() as session:
        return await service.shipments(session=session, order_id=order_id)
