"""Order HTTP API: channels, order intake, the order view and cancellation."""

from collections.abc import Sequence

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.app import RuntimeDep
from keel_kit.idempotency import IdempotencyKey, Outcome, recall_many
from keel_kit.problems import DomainError
from keel_kit.runtime import ServiceRuntime
from keel_order import intake, service
from keel_order.schemas import (
    BatchAccepted,
    BatchOutcome,
    CancelRequest,
    ChannelCreate,
    ChannelPublic,
    OrderAccepted,
    OrderBatch,
    OrderCreate,
    OrderPublic,
)

router = APIRouter(prefix="/v1", tags=["orders"])


@router.post("/channels", status_code=status.HTTP_201_CREATED)
async def create_channel(body: ChannelCreate, runtime: RuntimeDep) -> ChannelPublic:
    async with runtime.db.transaction() as session:
        channel = await service.create_channel(session=session, cmd=body)
        return ChannelPublic.model_validate(channel, from_attributes=True)


@router.get("/channels")
async def list_channels(runtime: RuntimeDep) -> list[ChannelPublic]:
    async with runtime.db.transaction() as session:
        channels = await service.list_channels(session=session)
        return [ChannelPublic.model_validate(c, from_attributes=True) for c in channels]


@router.post("/orders", status_code=status.HTTP_202_ACCEPTED, response_model=OrderAccepted)
async def place_order(
    body: OrderCreate, runtime: RuntimeDep, key: IdempotencyKey = None
) -> Response:
    """Accept an order; validation (stock, payment, rules) continues asynchronously.

    The `Idempotency-Key` header is required: a marketplace retrying after a timeout must get
    the same order back, never a second one.
    """
    if key is None:
        raise DomainError("send an Idempotency-Key header", field="Idempotency-Key")
    async with runtime.db.transaction() as session:
        [outcome] = await _accept(session, runtime, [(key, body)])
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome.response()


@router.post("/orders/batch")
async def place_orders(body: OrderBatch, runtime: RuntimeDep) -> BatchAccepted:
    """Accept up to 500 orders in one request, as a marketplace feed sends them.

    Each order is judged alone and answered in `results`, in the order sent, with the status a
    single POST would have had; refused orders leave no trace. Each carries its own
    `idempotency_key`, shared with single POSTs: a retried batch replays every answer.
    A body that does not parse is refused whole (422, naming the field).
    """
    requests = [(item.idempotency_key, item.order) for item in body.orders]
    async with runtime.db.transaction() as session:
        outcomes = await _accept(session, runtime, requests)
    results = [
        BatchOutcome(idempotency_key=key, status=outcome.status, problem=outcome.document())
        if isinstance(outcome, DomainError)
        else BatchOutcome(
            idempotency_key=key,
            status=outcome.status_code,
            replayed=outcome.replayed,
            order=OrderAccepted.model_validate_json(outcome.body),
        )
        for (key, _), outcome in zip(requests, outcomes, strict=True)
    ]
    accepted = sum(1 for r in results if r.order is not None)
    return BatchAccepted(accepted=accepted, refused=len(results) - accepted, results=results)


async def _accept(
    session: AsyncSession, runtime: ServiceRuntime, requests: list[tuple[str, OrderCreate]]
) -> list[Outcome]:
    async def run(orders: Sequence[OrderCreate]) -> Sequence[BaseModel | DomainError]:
        return await intake.accept_orders(session, runtime.outbox, orders, catchup=runtime.catchup)

    return await recall_many(session, scope="orders", requests=requests, status_code=202, run=run)


@router.get("/orders/{order_id}")
async def get_order(order_id: str, runtime: RuntimeDep) -> OrderPublic:
    async with runtime.db.transaction() as session:
        return await service.view_order(session=session, order_id=order_id)


@router.post("/orders/{order_id}/cancel")
async def cancel_order(
    order_id: str, runtime: RuntimeDep, body: CancelRequest | None = None
) -> OrderAccepted:
    reason = (body or CancelRequest()).reason
    async with runtime.db.transaction() as session:
        order = await service.cancel_order(
            session=session, outbox=runtime.outbox, order_id=order_id, reason=reason
        )
        return OrderAccepted(order_id=order.order_id, status=order.status)
