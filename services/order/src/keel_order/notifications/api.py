"""What the customer was told about their order, for customer service."""

from fastapi import APIRouter

from keel_kit.problems import NotFound
from keel_order.context import OrderDep
from keel_order.notifications import service
from keel_order.notifications.schemas import NotificationsPublic

router = APIRouter(prefix="/v1", tags=["orders"])


@router.get("/orders/{order_id}/notifications")
async def order_notifications(order_id: str, orders: OrderDep) -> NotificationsPublic:
    """Every message the customer was sent about the order, oldest first: what (`kind`,
    `message`) and when (`sent_at`; null while it waits for the sender)."""
    async with orders.unit_of_work() as uow:
        told = await service.told(uow=uow, order_id=order_id)
    if told is None:
        raise NotFound(f"no order {order_id}")
    return told
