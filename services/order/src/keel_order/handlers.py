"""Order subscribers: the item replica, the saga's answers from inventory and finance, the
shipments fulfillment reports, and procurement's supplier delays."""

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Message
from keel_contracts.events import (
    PaymentAuthorized,
    PaymentDeclined,
    PaymentHeld,
    PaymentRefunded,
    PurchaseOrderDelayed,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentShipped,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.replicas import replicate_items
from keel_order import repository, saga, shipping, supplier_delays
from keel_order.context import OrderContext
from keel_order.notifications import service as notifications

ABOUT_AN_ORDER = (
    StockReserved,
    StockReleased,
    StockReservationFailed,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentHeld,
    ShipmentCreated,
    ShipmentShipped,
    ShipmentDelivered,
    ShipmentCancelled,
)

handlers = Handlers()
replicate_items(handlers)


@handlers.before_batch
async def lock_the_batch_orders(session: AsyncSession, messages: Sequence[Message]) -> None:
    """Every reaction below locks its order: lock all of a batch's orders in one query, the
    orders waiting for the SKUs its supplier delays concern included."""
    order_ids = {m.order_id for m in messages if isinstance(m, ABOUT_AN_ORDER)}
    delayed = {
        line.sku for m in messages if isinstance(m, PurchaseOrderDelayed) for line in m.lines
    }
    await repository.lock_orders(session, order_ids, waiting_for=delayed)


Ctx = MessageContext[OrderContext]


@handlers.on(StockReserved)
async def on_stock_reserved(ctx: Ctx, event: StockReserved) -> None:
    await saga.on_stock_reserved(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(StockReleased)
async def on_stock_released(ctx: Ctx, event: StockReleased) -> None:
    await saga.on_stock_released(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(StockReservationFailed)
async def on_reservation_failed(ctx: Ctx, event: StockReservationFailed) -> None:
    await saga.on_reservation_failed(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(PaymentAuthorized)
async def on_payment_authorized(ctx: Ctx, event: PaymentAuthorized) -> None:
    await saga.on_payment_authorized(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(PaymentDeclined)
async def on_payment_declined(ctx: Ctx, event: PaymentDeclined) -> None:
    await saga.on_payment_declined(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(PaymentHeld)
async def on_payment_held(ctx: Ctx, event: PaymentHeld) -> None:
    await saga.on_payment_held(uow=ctx, event=event)


@handlers.on(ShipmentCreated)
async def on_shipment_created(ctx: Ctx, event: ShipmentCreated) -> None:
    await shipping.on_shipment_created(uow=ctx, event=event)


@handlers.on(ShipmentShipped)
async def on_shipment_shipped(ctx: Ctx, event: ShipmentShipped) -> None:
    await shipping.on_shipment_shipped(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(ShipmentDelivered)
async def on_shipment_delivered(ctx: Ctx, event: ShipmentDelivered) -> None:
    await shipping.on_shipment_delivered(uow=ctx, event=event)


@handlers.on(ShipmentCancelled)
async def on_shipment_cancelled(ctx: Ctx, event: ShipmentCancelled) -> None:
    await shipping.on_shipment_cancelled(uow=ctx, event=event)


@handlers.on(PurchaseOrderDelayed)
async def on_purchase_order_delayed(ctx: Ctx, event: PurchaseOrderDelayed) -> None:
    await supplier_delays.on_purchase_order_delayed(uow=ctx, event=event)


@handlers.on(PaymentRefunded)
async def on_payment_refunded(ctx: Ctx, event: PaymentRefunded) -> None:
    await notifications.on_refunded(uow=ctx, event=event)
