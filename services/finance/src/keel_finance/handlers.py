"""Finance subscribers: thin doors from events and commands into the same use cases as the API."""

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Message
from keel_contracts.commands import (
    AuthorizePayment,
    AuthorizeSealedPayment,
    CapturePayment,
    ResolvePaymentReview,
    VoidPayment,
)
from keel_contracts.events import (
    OrderPlaced,
    RefundRequested,
    StockAdjusted,
    StockIssued,
    StockReceived,
    StockReturned,
)
from keel_finance import adjustments, repository, service
from keel_finance.context import FinanceContext
from keel_finance.payments import service as payment_service
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.replicas import replicate_items

PAYMENT_MESSAGES = (
    AuthorizePayment,
    AuthorizeSealedPayment,
    CapturePayment,
    VoidPayment,
    ResolvePaymentReview,
    RefundRequested,
)

handlers = Handlers()
replicate_items(handlers)


@handlers.before_batch
async def load_the_batch(session: AsyncSession, messages: Sequence[Message]) -> None:
    """Look up what the batch's messages need, a whole batch's at once: each payment command and
    refund request its order's payment (and a refund request its refund), each graded return
    whether it was valued already and what its order's issues of the SKU cost, each adjustment
    whether it was valued already, and each stock event its SKU's valuation (locked, after the
    payments: every replica locks in that order)."""
    order_ids = {m.order_id for m in messages if isinstance(m, PAYMENT_MESSAGES)}
    await repository.load_payments(session, order_ids)
    refund_ids = {m.refund_id for m in messages if isinstance(m, RefundRequested)}
    await repository.load_refunds(session, refund_ids)
    graded = [
        (m.movement_id, m.order_id, m.sku)
        for m in messages
        if isinstance(m, StockReturned) and m.disposition is not None
    ]
    await repository.load_returns(session, graded)
    adjusted = {m.movement_id for m in messages if isinstance(m, StockAdjusted)}
    await repository.load_adjustments(session, adjusted)
    await service.lock_the_valuations(session, messages)


@handlers.on(StockReceived)
async def on_stock_received(ctx: MessageContext[FinanceContext], event: StockReceived) -> None:
    await service.post_stock_receipt(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(StockIssued)
async def on_stock_issued(ctx: MessageContext[FinanceContext], event: StockIssued) -> None:
    await service.post_cost_of_goods(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(StockReturned)
async def on_stock_returned(ctx: MessageContext[FinanceContext], event: StockReturned) -> None:
    await service.post_stock_return(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(StockAdjusted)
async def on_stock_adjusted(ctx: MessageContext[FinanceContext], event: StockAdjusted) -> None:
    await adjustments.post_stock_adjustment(uow=ctx, event=event, cause=ctx.envelope)


@handlers.on(OrderPlaced)
async def on_order_placed(ctx: MessageContext[FinanceContext], event: OrderPlaced) -> None:
    service.remember_channel(uow=ctx, event=event)


@handlers.on(AuthorizePayment)
async def on_authorize_payment(ctx: MessageContext[FinanceContext], cmd: AuthorizePayment) -> None:
    await payment_service.authorize_payment(uow=ctx, cmd=cmd, cause=ctx.envelope)


@handlers.on(AuthorizeSealedPayment)
async def on_authorize_sealed_payment(
    ctx: MessageContext[FinanceContext], cmd: AuthorizeSealedPayment
) -> None:
    await payment_service.authorize_sealed_payment(uow=ctx, cmd=cmd, cause=ctx.envelope)


@handlers.on(CapturePayment)
async def on_capture_payment(ctx: MessageContext[FinanceContext], cmd: CapturePayment) -> None:
    await payment_service.capture_payment(uow=ctx, cmd=cmd, cause=ctx.envelope)


@handlers.on(VoidPayment)
async def on_void_payment(ctx: MessageContext[FinanceContext], cmd: VoidPayment) -> None:
    await payment_service.void_payment(uow=ctx, cmd=cmd, cause=ctx.envelope)


@handlers.on(ResolvePaymentReview)
async def on_resolve_payment_review(
    ctx: MessageContext[FinanceContext], cmd: ResolvePaymentReview
) -> None:
    await payment_service.resolve_review(uow=ctx, cmd=cmd, cause=ctx.envelope)


@handlers.on(RefundRequested)
async def on_refund_requested(ctx: MessageContext[FinanceContext], event: RefundRequested) -> None:
    await payment_service.refund_payment(uow=ctx, event=event, cause=ctx.envelope)
