"""Fulfillment HTTP API: warehouses report events, one at a time or in batches; staff and
warehouses look up shipments.

A warehouse's system, signing as `warehouse:<location_id>`, reports and reads only its own
location's shipments: another location's is not found, as if it did not exist.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from keel_contracts.roles import Role
from keel_fulfillment import service, warehouse_events
from keel_fulfillment.context import FulfillmentDep
from keel_fulfillment.schemas import (
    BatchAccepted,
    EventAccepted,
    ShipmentPublic,
    ShipmentsPage,
    WarehouseEventBatch,
    WarehouseEventIn,
)
from keel_fulfillment.service import QueueStatus
from keel_kit.access import PrincipalDep
from keel_kit.partners import partner_id
from keel_kit.problems import NotFound
from keel_kit.query import CursorQuery

router = APIRouter(prefix="/v1", tags=["fulfillment"])


@router.post("/warehouses/{location_id}/events", status_code=warehouse_events.ACCEPTED)
async def warehouse_event(
    location_id: str, body: WarehouseEventIn, fulfillment: FulfillmentDep, principal: PrincipalDep
) -> EventAccepted:
    """Picked, packed, shipped or delivered; idempotent on the warehouse's `event_id`."""
    async with fulfillment.unit_of_work() as uow:
        return await warehouse_events.record_warehouse_event(
            uow=uow,
            location_id=location_id,
            cmd=body,
            signed_by=partner_id(principal, Role.WAREHOUSE_SYSTEM),
        )


@router.post("/warehouses/{location_id}/events/batch")
async def warehouse_event_batch(
    location_id: str,
    body: WarehouseEventBatch,
    fulfillment: FulfillmentDep,
    principal: PrincipalDep,
) -> BatchAccepted:
    """Up to 500 events of one location in one request, as a warehouse system sends them.

    Applied in the order sent, each judged alone and answered in `results`, in that order, with
    the status a single POST would have had (202 with the event, a duplicate too; 404, 409 or
    422 with the problem); refused events leave no trace. A body that does not parse is refused
    whole (422, naming the field).
    """
    async with fulfillment.unit_of_work() as uow:
        return await warehouse_events.record_warehouse_events(
            uow=uow,
            location_id=location_id,
            cmd=body,
            signed_by=partner_id(principal, Role.WAREHOUSE_SYSTEM),
        )


@router.get("/shipments")
async def list_shipments(
    order_id: str, fulfillment: FulfillmentDep, principal: PrincipalDep
) -> list[ShipmentPublic]:
    async with fulfillment.unit_of_work() as uow:
        shipments = await service.shipments(uow=uow, order_id=order_id)
    own = partner_id(principal, Role.WAREHOUSE_SYSTEM)
    return [s for s in shipments if own is None or s.location_id == own]


@router.get("/warehouses/{location_id}/shipments")
async def location_shipments(
    location_id: Annotated[str, Path(max_length=64)],
    fulfillment: FulfillmentDep,
    principal: PrincipalDep,
    status: QueueStatus = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorQuery = None,
) -> ShipmentsPage:
    """A location's shipments in pick order, the oldest first: by default those still to pick,
    pack or ship (`status=open`), or those in one status. Each names the warehouse events it
    may take next. Pass `next_cursor` back as `cursor` for more."""
    own = partner_id(principal, Role.WAREHOUSE_SYSTEM)
    if own is not None and own != location_id:
        raise NotFound(f"no location {location_id}")
    async with fulfillment.unit_of_work() as uow:
        return await service.location_queue(
            uow=uow, location_id=location_id, status=status, limit=limit, cursor=cursor
        )
