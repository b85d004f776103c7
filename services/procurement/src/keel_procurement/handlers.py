"""Procurement subscribers: the replicas of the item master and of inventory's locations
(purchase orders and policies name them), and the stock movements the demand signal is
measured from."""

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Message
from keel_contracts.events import StockIssued, StockReceived
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.location_replicas import replicate_locations
from keel_kit.replicas import replicate_items
from keel_procurement import replenishment, repository
from keel_procurement.context import ProcurementContext

handlers = Handlers()
replicate_items(handlers)
replicate_locations(handlers)


@handlers.before_batch
async def load_the_batch_signals(session: AsyncSession, messages: Sequence[Message]) -> None:
    """Each stock movement below updates its SKU's signal at its location: read a whole batch's
    in one query, which the handlers then find in the session."""
    await repository.load_demand_signals(
        session,
        {(m.sku, m.location_id) for m in messages if isinstance(m, StockIssued | StockReceived)},
    )


@handlers.on(StockIssued)
async def on_stock_issued(ctx: MessageContext[ProcurementContext], event: StockIssued) -> None:
    await replenishment.stock_issued(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(StockReceived)
async def on_stock_received(ctx: MessageContext[ProcurementContext], event: StockReceived) -> None:
    await replenishment.stock_received(uow=ctx, event=event)
