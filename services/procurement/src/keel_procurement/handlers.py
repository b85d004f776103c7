"""Procurement subscribers: the replicas of the item master and of inventory's locations
(purchase orders and policies name them), and the stock movements the demand signal is
measured from."""

from keel_contracts.events import StockIssued, StockReceived
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.location_replicas import replicate_locations
from keel_kit.replicas import replicate_items
from keel_procurement import replenishment
from keel_procurement.context import ProcurementContext

handlers = Handlers()
replicate_items(handlers)
replicate_locations(handlers)


@handlers.on(StockIssued)
async def on_stock_issued(ctx: MessageContext[ProcurementContext], event: StockIssued) -> None:
    await replenishment.stock_issued(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(StockReceived)
async def on_stock_received(ctx: MessageContext[ProcurementContext], event: StockReceived) -> None:
    await replenishment.stock_received(uow=ctx, event=event)
