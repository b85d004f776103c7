"""Fulfillment subscribers: replicas of items and locations, released and cancelled orders."""

from keel_contracts.events import OrderCancelled, OrderReleased
from keel_fulfillment import service
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.location_replicas import replicate_locations
from keel_kit.replicas import replicate_items

handlers = Handlers()
replicate_items(handlers)
replicate_locations(handlers)


@handlers.on(OrderReleased)
async def on_order_released(ctx: MessageContext, event: OrderReleased) -> None:
    await service.plan_shipments(
        session=ctx.session, outbox=ctx.outbox, event=event, cause=ctx.envelope
    )


@handlers.on(OrderCancelled)
async def on_order_cancelled(ctx: MessageContext, event: OrderCancelled) -> None:
    await service.cancel_shipments(
        session=ctx.session, outbox=ctx.outbox, event=event, cause=ctx.envelope
    )
