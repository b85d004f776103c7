"""Order HTTP API: channels, order intake, the order view and cancellation."""

from fastapi import APIRouter, Response, status

from keel_kit.app import RuntimeDep
from keel_kit.idempotency import IdempotencyKey, idempotent
from keel_kit.problems import DomainError
from keel_order import service
from keel_order.schemas import (
    CancelRequest,
    ChannelCreate,
    ChannelPublic,
    OrderAccepted,
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

    async def run() -> OrderAccepted:
        order = await service.place_order(session=session, outbox=runtime.outbox, cmd=body)
        return OrderAccepted(order_id=order.order_id, status=order.status)

    async with runtime.db.transaction() as session:
        return await idempotent(
            session, scope="orders", key=key, request=body, status_code=202, run=run
        )


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
