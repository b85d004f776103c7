"""Inventory subscribers: thin doors from commands and shipments into the use cases."""

from keel_contracts.commands import ReleaseStock, ReserveStock
from keel_contracts.events import (
    OrderReleased,
    PurchaseOrderCancelled,
    PurchaseOrderClosed,
    PurchaseOrderConfirmed,
    PurchaseOrderDelayed,
    PurchaseOrderReceived,
    ReturnInspected,
    ReturnReceived,
    ShipmentShipped,
)
from keel_inventory import purchase_orders, reservations, returns, shipments
from keel_kit.handlers import Handlers, MessageContext

handlers = Handlers()


@handlers.on(ReserveStock)
async def on_reserve_stock(ctx: MessageContext, cmd: ReserveStock) -> None:
    await reservations.reserve(session=ctx.session, outbox=ctx.outbox, cmd=cmd, cause=ctx.envelope)


@handlers.on(ReleaseStock)
async def on_release_stock(ctx: MessageContext, cmd: ReleaseStock) -> None:
    await reservations.release(session=ctx.session, outbox=ctx.outbox, cmd=cmd, cause=ctx.envelope)


@handlers.on(ShipmentShipped)
async def on_shipment_shipped(ctx: MessageContext, event: ShipmentShipped) -> None:
    await shipments.issue_shipment(
        session=ctx.session, outbox=ctx.outbox, event=event, cause=ctx.envelope
    )


@handlers.on(OrderReleased)
async def on_order_released(ctx: MessageContext, event: OrderReleased) -> None:
    await shipments.hold_for_shipment(session=ctx.session, event=event)


@handlers.on(PurchaseOrderConfirmed)
async def on_purchase_order_confirmed(ctx: MessageContext, event: PurchaseOrderConfirmed) -> None:
    await purchase_orders.record_confirmed(session=ctx.session, event=event)


@handlers.on(PurchaseOrderDelayed)
async def on_purchase_order_delayed(ctx: MessageContext, event: PurchaseOrderDelayed) -> None:
    await purchase_orders.record_delayed(session=ctx.session, event=event)


@handlers.on(PurchaseOrderReceived)
async def on_purchase_order_received(ctx: MessageContext, event: PurchaseOrderReceived) -> None:
    await purchase_orders.receive(
        session=ctx.session, outbox=ctx.outbox, event=event, cause=ctx.envelope
    )


@handlers.on(PurchaseOrderCancelled)
async def on_purchase_order_cancelled(ctx: MessageContext, event: PurchaseOrderCancelled) -> None:
    await purchase_orders.clear_on_order(session=ctx.session, event=event)


@handlers.on(PurchaseOrderClosed)
async def on_purchase_order_closed(ctx: MessageContext, event: PurchaseOrderClosed) -> None:
    await purchase_orders.clear_on_order(session=ctx.session, event=event)


@handlers.on(ReturnReceived)
async def on_return_received(ctx: MessageContext, event: ReturnReceived) -> None:
    await returns.receive(session=ctx.session, outbox=ctx.outbox, event=event, cause=ctx.envelope)


@handlers.on(ReturnInspected)
async def on_return_inspected(ctx: MessageContext, event: ReturnInspected) -> None:
    await returns.inspect(session=ctx.session, outbox=ctx.outbox, event=event, cause=ctx.envelope)
