"""Returns subscribers: the item replica, what was ordered and shipped per order (prices,
total and channel from the order service, shipments and deliveries from fulfillment), and what
finance paid on the refunds."""

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Message
from keel_contracts.events import (
    OrderPlaced,
    OrderReleased,
    PaymentRefunded,
    ShipmentDelivered,
    ShipmentShipped,
)
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.replicas import replicate_items
from keel_returns import projection, refunds, repository
from keel_returns.context import ReturnsContext

ABOUT_AN_ORDER = (OrderPlaced, OrderReleased, ShipmentShipped, ShipmentDelivered, PaymentRefunded)

handlers = Handlers()
replicate_items(handlers)


@handlers.before_batch
async def load_the_batch_orders(session: AsyncSession, messages: Sequence[Message]) -> None:
    """Every reaction below reads and writes its order: load (and lock) a whole batch's in one
    go, then the returns and refunds its payments settle."""
    order_ids = {m.order_id for m in messages if isinstance(m, ABOUT_AN_ORDER)}
    await repository.load_orders(session, order_ids)
    refund_ids = {m.refund_id for m in messages if isinstance(m, PaymentRefunded)}
    await repository.load_refunds(session, refund_ids)


@handlers.on(OrderPlaced)
async def on_order_placed(ctx: MessageContext[ReturnsContext], event: OrderPlaced) -> None:
    await projection.record_placed(uow=ctx, event=event)


@handlers.on(OrderReleased)
async def on_order_released(ctx: MessageContext[ReturnsContext], event: OrderReleased) -> None:
    await projection.record_released(uow=ctx, event=event)


@handlers.on(ShipmentShipped)
async def on_shipment_shipped(ctx: MessageContext[ReturnsContext], event: ShipmentShipped) -> None:
    await projection.record_shipped(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(ShipmentDelivered)
async def on_shipment_delivered(
    ctx: MessageContext[ReturnsContext], event: ShipmentDelivered
) -> None:
    await projection.record_delivered(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(PaymentRefunded)
async def on_payment_refunded(ctx: MessageContext[ReturnsContext], event: PaymentRefunded) -> None:
    await refunds.record_refunded(uow=ctx, event=event, cause=ctx.envelope)
