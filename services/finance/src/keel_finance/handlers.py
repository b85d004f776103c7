"""Finance subscribers: thin doors from events into the same use cases as the API."""

from keel_contracts.events import StockReceived
from keel_finance import service
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.replicas import replicate_items

handlers = Handlers()
replicate_items(handlers)


@handlers.on(StockReceived)
async def on_stock_received(ctx: MessageContext, event: StockReceived) -> None:
    await service.post_stock_receipt(
        session=ctx.session, outbox=ctx.outbox, event=event, envelope=ctx.envelope
    )
