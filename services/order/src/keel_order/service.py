"""Order use cases called from HTTP: cancellation, channels, the order view (intake is in
intake.py)."""

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.outbox import Outbox
from keel_kit.problems import Conflict, NotFound
from keel_order import domain, lifecycle, repository
from keel_order.domain import Status
from keel_order.models import Channel, Order
from keel_order.schemas import (
    ChannelCreate,
    HistoryEntry,
    HoldPublic,
    LinePublic,
    OrderPublic,
)


async def create_channel(*, session: AsyncSession, cmd: ChannelCreate) -> Channel:
    if await repository.get_channel(session, cmd.channel_id) is not None:
        raise Conflict(f"channel {cmd.channel_id} already exists", field="channel_id")
    channel = Channel(**cmd.model_dump())
    session.add(channel)
    return channel


async def list_channels(*, session: AsyncSession) -> Sequence[Channel]:
    return await repository.list_channels(session)


async def cancel_order(
    *, session: AsyncSession, outbox: Outbox, order_id: str, reason: str
) -> Order:
    order = await repository.get_order(session, order_id, lock=True)
    if order is None:
        raise NotFound(f"no order {order_id}")
    if Status(order.status) not in domain.CANCELLABLE:
        raise Conflict(f"an order that is {order.status} can no longer be cancelled")
    lifecycle.cancel(session, outbox, order, reason, cause=None)
    return order


async def view_order(*, session: AsyncSession, order_id: str) -> OrderPublic:
    order = await repository.get_order(session, order_id)
    if order is None:
        raise NotFound(f"no order {order_id}")
    history = await repository.history(session, order_id)
    return OrderPublic(
        order_id=order.order_id,
        channel=order.channel,
        external_id=order.external_id,
        status=order.status,
        currency=order.currency,
        total=order.total,
        rule_set_version=order.rule_set_version,
        fraud_score=order.fraud_score,
        lines=[LinePublic.model_validate(line, from_attributes=True) for line in order.lines],
        holds=[HoldPublic.model_validate(hold, from_attributes=True) for hold in order.holds],
        history=[HistoryEntry.model_validate(event, from_attributes=True) for event in history],
    )
