"""Procurement subscribers: the replicas of the item master and of inventory's locations
(purchase orders and policies name them), and the stock movements the demand signal is
measured from."""

from keel_contracts.events import StockIssued, StockReceived
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.location_replicas import replicate_locations
from keel_kit.replicas import replicate_items
from keel_procurement import replenishment
from keel_procurement.replenishment import Planning
from keel_procurement.settings import Settings


def build_handlers(planning: Planning) -> Handlers:
    """The subscribers, with the demand smoothing the deployment set."""
    handlers = Handlers()
    replicate_items(handlers)
    replicate_locations(handlers)

    @handlers.on(StockIssued)
    async def on_stock_issued(ctx: MessageContext, event: StockIssued) -> None:
        await replenishment.stock_issued(
            session=ctx.session,
            sku=event.sku,
            location_id=event.location_id,
            units=event.quantity,
            at=ctx.envelope.occurred_at,
            planning=planning,
        )

    @handlers.on(StockReceived)
    async def on_stock_received(ctx: MessageContext, event: StockReceived) -> None:
        await replenishment.stock_received(
            session=ctx.session, sku=event.sku, location_id=event.location_id, units=event.quantity
        )

    return handlers


def default_planning() -> Planning:
    fields = Settings.model_fields
    return Planning(alpha=fields["demand_alpha"].default, review_days=fields["review_days"].default)


# What the service subscribes to, for tools that read it without an app (the AsyncAPI document);
# `create_app` builds its own with the deployment's settings.
handlers = build_handlers(default_planning())
