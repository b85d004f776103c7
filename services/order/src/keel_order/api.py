"""Order HTTP API: channels, order intake, the order view and cancellation."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from keel_kit.access import PrincipalDep, signed_request_id
from keel_kit.idempotency import IdempotencyKey
from keel_kit.problems import DomainError
from keel_kit.query import CursorQuery
from keel_order import intake, service
from keel_order.context import OrderDep
from keel_order.domain import Status
from keel_order.schemas import (
    BatchAccepted,
    CancelRequest,
    ChannelChange,
    ChannelCreate,
    ChannelPublic,
    OrderAccepted,
    OrderBatch,
    OrderCreate,
    OrderPublic,
    OrdersPage,
    ShippedOrdersPage,
)

router = APIRouter(prefix="/v1", tags=["orders"])


@router.post("/channels", status_code=status.HTTP_201_CREATED)
async def create_channel(
    body: ChannelCreate, orders: OrderDep, principal: PrincipalDep
) -> ChannelPublic:
    async with orders.unit_of_work() as uow:
        return await service.create_channel(uow=uow, cmd=body, actor=principal)


@router.patch("/channels/{channel_id}")
async def change_channel(
    channel_id: str, body: ChannelChange, orders: OrderDep, principal: PrincipalDep
) -> ChannelPublic:
    """Change a channel's policies (admin's, audited with before and after); they govern the
    orders it brings from now on."""
    async with orders.unit_of_work() as uow:
        return await service.change_channel(
            uow=uow, channel_id=channel_id, cmd=body, actor=principal
        )


@router.get("/channels")
async def list_channels(orders: OrderDep) -> list[ChannelPublic]:
    async with orders.unit_of_work() as uow:
        return await service.list_channels(uow=uow)


@router.post("/orders", status_code=status.HTTP_202_ACCEPTED, response_model=OrderAccepted)
async def place_order(
    body: OrderCreate,
    orders: OrderDep,
    principal: PrincipalDep,
    request: Request,
    key: IdempotencyKey = None,
) -> Response:
    """Accept an order; validation (stock, payment, rules) continues asynchronously.

    The request needs a key, so a marketplace retrying after a timeout gets the same order back,
    never a second one: the `Idempotency-Key` header, or a signed channel's `webhook-id`.
    A signed channel places orders for itself only (another channel is a 403).
    """
    key = key or signed_request_id(request)
    if key is None:
        raise DomainError("send an Idempotency-Key header", field="Idempotency-Key")
    async with orders.unit_of_work() as uow:
        answer = await intake.place_order(uow=uow, key=key, cmd=body, caller=principal)
    return answer.response()


@router.post("/orders/batch")
async def place_orders(
    body: OrderBatch, orders: OrderDep, principal: PrincipalDep
) -> BatchAccepted:
    """Accept up to 500 orders in one request, as a marketplace feed sends them.

    Each order is judged alone and answered in `results`, in the order sent, with the status a
    single POST would have had; refused orders leave no trace. Each carries its own
    `idempotency_key`, shared with single POSTs: a retried batch replays every answer.
    A body that does not parse is refused whole (422, naming the field). A signed channel's
    order for another channel is refused alone (403 in its result).
    """
    async with orders.unit_of_work() as uow:
        return await intake.place_orders(uow=uow, cmd=body, caller=principal)


@router.get("/orders")
async def search_orders(
    orders: OrderDep,
    principal: PrincipalDep,
    external_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    customer_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    status: Status | None = None,
    channel: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorQuery = None,
) -> OrdersPage:
    """Orders matching every filter given (a channel's external id, a customer, a status, a
    channel), the newest first; pass `next_cursor` back as `cursor` for more. A signed channel
    finds its own orders only."""
    async with orders.unit_of_work() as uow:
        return await service.search_orders(
            uow=uow,
            viewer=principal,
            external_id=external_id,
            customer_id=customer_id,
            status=status,
            channel=channel,
            limit=limit,
            cursor=cursor,
        )


@router.get("/orders/{order_id}")
async def get_order(order_id: str, orders: OrderDep, principal: PrincipalDep) -> OrderPublic:
    """One order; a signed channel finds only its own orders."""
    async with orders.unit_of_work() as uow:
        return await service.view_order(uow=uow, order_id=order_id, viewer=principal)


@router.post("/orders/{order_id}/cancel")
async def cancel_order(
    order_id: str, orders: OrderDep, principal: PrincipalDep, body: CancelRequest | None = None
) -> OrderAccepted:
    """Cancel an order that has not shipped; the caller is recorded as closing its open holds."""
    reason = (body or CancelRequest()).reason
    async with orders.unit_of_work() as uow:
        return await service.cancel_order(
            uow=uow, order_id=order_id, reason=reason, actor=principal
        )


@router.get("/shipped-orders")
async def list_shipped_orders(
    orders: OrderDep,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ShippedOrdersPage:
    """Orders every unit of which has left (shipped, delivered, closed) with their totals, in
    order id order; `cursor` is the last page's `next_cursor`. `keel check` matches them with
    finance's posted sales."""
    async with orders.unit_of_work() as uow:
        return await service.shipped_orders(uow=uow, cursor=cursor, limit=limit)
