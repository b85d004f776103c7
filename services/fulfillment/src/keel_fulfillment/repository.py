"""Every fulfillment query lives here."""

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_fulfillment.models import Shipment, ShipmentLine, WarehouseEvent


async def shipments_for_order(
    session: AsyncSession, order_id: str, *, lock: bool = False
) -> Sequence[Shipment]:
    query = (
        select(Shipment).where(Shipment.order_id == order_id).order_by(col(Shipment.location_id))
    )
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).all()


async def get_shipment(session: AsyncSession, shipment_id: str) -> Shipment | None:
    return await session.get(Shipment, shipment_id, with_for_update=True)


async def lines(session: AsyncSession, shipment_ids: Sequence[str]) -> Sequence[ShipmentLine]:
    query = (
        select(ShipmentLine)
        .where(col(ShipmentLine.shipment_id).in_(shipment_ids))
        .order_by(col(ShipmentLine.shipment_id), col(ShipmentLine.sku))
    )
    return (await session.exec(query)).all()


async def get_warehouse_event(session: AsyncSession, event_id: str) -> WarehouseEvent | None:
    return await session.get(WarehouseEvent, event_id)
