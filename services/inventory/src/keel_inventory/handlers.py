"""Inventory subscribers: thin doors from commands and shipments into the use cases."""

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Message
from keel_contracts.commands import ReleaseStock, ReserveStock
from keel_contracts.events import (
    ChannelRegistered,
    OrderConfirmed,
    OrderReleased,
    PurchaseOrderCancelled,
    PurchaseOrderClosed,
    PurchaseOrderConfirmed,
    PurchaseOrderDelayed,
    PurchaseOrderReceived,
    ReturnInspected,
    ReturnReceived,
    ShipmentShipped,
    SupplierRated,
)
from keel_inventory import channel_allocation, purchase_orders, reservations, returns, shipments
from keel_inventory.context import InventoryContext
from keel_kit.handlers import Handlers, MessageContext

handlers = Handlers()


@handlers.before_batch
async def load_the_batch(session: AsyncSession, messages: Sequence[Message]) -> None:
    """What the batch's shipments and reservations need, read for all of them at once."""
    shipped = [m for m in messages if isinstance(m, ShipmentShipped)]
    await shipments.load_for_shipments(session, shipped)
    reserving = [m for m in messages if isinstance(m, ReserveStock)]
    await reservations.lock_for_reservations(session, reserving)


@handlers.on(ReserveStock)
async def on_reserve_stock(ctx: MessageContext[InventoryContext], cmd: ReserveStock) -> None:
    await reservations.reserve(uow=ctx, cmd=cmd, cause=ctx.envelope)


@handlers.on(ReleaseStock)
async def on_release_stock(ctx: MessageContext[InventoryContext], cmd: ReleaseStock) -> None:
    await reservations.release(uow=ctx, cmd=cmd, cause=ctx.envelope)


@handlers.on(ShipmentShipped)
async def on_shipment_shipped(
    ctx: MessageContext[InventoryContext], event: ShipmentShipped
) -> None:
    await shipments.issue_shipment(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(OrderConfirmed)
async def on_order_confirmed(ctx: MessageContext[InventoryContext], event: OrderConfirmed) -> None:
    await shipments.hold_for_shipment(uow=ctx, order_id=event.order_id)


@handlers.on(OrderReleased)
async def on_order_released(ctx: MessageContext[InventoryContext], event: OrderReleased) -> None:
    await shipments.hold_for_shipment(uow=ctx, order_id=event.order_id)


@handlers.on(PurchaseOrderConfirmed)
async def on_purchase_order_confirmed(
    ctx: MessageContext[InventoryContext], event: PurchaseOrderConfirmed
) -> None:
    await purchase_orders.record_confirmed(uow=ctx, event=event)


@handlers.on(PurchaseOrderDelayed)
async def on_purchase_order_delayed(
    ctx: MessageContext[InventoryContext], event: PurchaseOrderDelayed
) -> None:
    await purchase_orders.record_delayed(uow=ctx, event=event)


@handlers.on(PurchaseOrderReceived)
async def on_purchase_order_received(
    ctx: MessageContext[InventoryContext], event: PurchaseOrderReceived
) -> None:
    await purchase_orders.receive(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(PurchaseOrderCancelled)
async def on_purchase_order_cancelled(
    ctx: MessageContext[InventoryContext], event: PurchaseOrderCancelled
) -> None:
    await purchase_orders.clear_on_order(uow=ctx, event=event)


@handlers.on(PurchaseOrderClosed)
async def on_purchase_order_closed(
    ctx: MessageContext[InventoryContext], event: PurchaseOrderClosed
) -> None:
    await purchase_orders.clear_on_order(uow=ctx, event=event)


@handlers.on(ReturnReceived)
async def on_return_received(ctx: MessageContext[InventoryContext], event: ReturnReceived) -> None:
    await returns.receive(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(ReturnInspected)
async def on_return_inspected(
    ctx: MessageContext[InventoryContext], event: ReturnInspected
) -> None:
    await returns.inspect(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(ChannelRegistered)
async def on_channel_registered(
    ctx: MessageContext[InventoryContext], event: ChannelRegistered
) -> None:
    await channel_allocation.learn_channel(uow=ctx, event=event)


@handlers.on(SupplierRated)
async def on_supplier_rated(ctx: MessageContext[InventoryContext], event: SupplierRated) -> None:
    await purchase_orders.record_rating(uow=ctx, event=event)
