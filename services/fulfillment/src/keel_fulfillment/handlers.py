"""Fulfillment subscribers: replicas of items and locations, released and cancelled orders."""

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Message
from keel_contracts.events import OrderCancelled, OrderReleased
from keel_fulfillment import repository, service
from keel_fulfillment.context import FulfillmentContext
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.location_replicas import replicate_locations
from keel_kit.replicas import replicate_items

handlers = Handlers()
replicate_items(handlers)
replicate_locations(handlers)


@handlers.before_batch
async def lock_the_batch_shipments(session: AsyncSession, messages: Sequence[Message]) -> None:
    """Both reactions below lock the order's shipments: lock a whole batch's in one query."""
    order_ids = {m.order_id for m in messages if isinstance(m, OrderReleased | OrderCancelled)}
    await repository.lock_shipments_of(session, order_ids)


@handlers.on(OrderReleased)
async def on_order_released(ctx: MessageContext[FulfillmentContext], event: OrderReleased) -> None:
    await service.plan_shipments(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(OrderCancelled)
async def on_order_cancelled(
    ctx: MessageContext[FulfillmentContext], event: OrderCancelled
) -> None:
    await service.cancel_shipments(uow=ctx, event=event, cause=ctx.envelope)
