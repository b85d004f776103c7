"""Order use cases called from HTTP: cancellation, channels, the order view, shipped orders
(intake is in intake.py, the exception queue in holds/). Amounts are shown with the places of
the order's currency (`money.shown`: 1500 JPY, 15.00 USD, 1.500 KWD)."""

from keel_contracts import money
from keel_contracts.events import ChannelRegistered
from keel_contracts.roles import Role
from keel_kit import audit
from keel_kit.identity import Principal
from keel_kit.partners import partner_id
from keel_kit.problems import Conflict, DomainError, NotFound
from keel_order import domain, lifecycle, repository
from keel_order.context import Work
from keel_order.domain import Status
from keel_order.models import Channel
from keel_order.schemas import (
    ChannelChange,
    ChannelCreate,
    ChannelPublic,
    HistoryEntry,
    HoldPublic,
    LinePublic,
    OrderAccepted,
    OrderPublic,
    OrdersPage,
    OrderSummary,
    ShippedOrderPublic,
    ShippedOrdersPage,
)
from keel_order.settlement import EARNED


async def create_channel(*, uow: Work, cmd: ChannelCreate, actor: Principal) -> ChannelPublic:
    """Create a channel for `actor`; a channel's policies (backorders, release delay) govern
    every order it brings, so its creation is audited."""
    if await repository.get_channel(uow.session, cmd.channel_id) is not None:
        raise Conflict(f"channel {cmd.channel_id} already exists", field="channel_id")
    channel = Channel(**cmd.model_dump())  # not yet announced: the job announces it
    uow.session.add(channel)
    await audit.record(
        uow,
        actor=actor,
        action="channel.created",
        object_type="channel",
        object_id=cmd.channel_id,
        owner_role=Role.ADMIN,
        after=cmd.model_dump(mode="json"),
    )
    return ChannelPublic.model_validate(channel, from_attributes=True)


async def change_channel(
    *, uow: Work, channel_id: str, cmd: ChannelChange, actor: Principal
) -> ChannelPublic:
    """Change the policies `cmd` names (only those it sets; a null cap lifts the cap)."""
    channel = await repository.get_channel(uow.session, channel_id)
    if channel is None:
        raise NotFound(f"no channel {channel_id}")
    changes = cmd.model_dump(exclude_unset=True)
    for required in ("name", "backorder_policy", "release_delay_seconds"):
        if required in changes and changes[required] is None:
            raise DomainError(f"{required} cannot be null", field=required)
    before = ChannelPublic.model_validate(channel, from_attributes=True)
    for field, value in changes.items():
        setattr(channel, field, value)
    after = ChannelPublic.model_validate(channel, from_attributes=True)
    channel.announced = False  # announced again as it is now
    await audit.record(
        uow,
        actor=actor,
        action="channel.changed",
        object_type="channel",
        object_id=channel_id,
        owner_role=Role.ADMIN,
        before=before.model_dump(mode="json"),
        after=after.model_dump(mode="json"),
    )
    return after


async def announce_channels(work: Work) -> None:
    """The periodic job: tell the other services each channel created or changed since it was
    last announced (those the first migration made too), as it is now; inventory keeps its
    allocation rules per channel. On a compacted topic, so the latest of each stays."""
    for channel in await repository.unannounced_channels(work.session):
        work.outbox.add(
            work.session,
            ChannelRegistered(
                channel_id=channel.channel_id,
                name=channel.name,
                market_country=channel.market_country,
            ),
            key=channel.channel_id,
        )
        channel.announced = True
        work.session.add(channel)


async def list_channels(*, uow: Work) -> list[ChannelPublic]:
    channels = await repository.list_channels(uow.session)
    return [ChannelPublic.model_validate(c, from_attributes=True) for c in channels]


async def cancel_order(*, uow: Work, order_id: str, reason: str, actor: Principal) -> OrderAccepted:
    """Cancel the order for `actor`, the person (or channel) asking, whom its closed holds name.
    A signed channel cancels only its own orders."""
    order = await repository.get_order(uow.session, order_id, lock=True)
    if order is None or not _visible_to(actor, order.channel):
        raise NotFound(f"no order {order_id}")
    if Status(order.status) not in domain.CANCELLABLE:
        raise Conflict(f"an order that is {order.status} can no longer be cancelled")
    before = {"status": order.status}
    # The holds the cancellation closes are closed in the actor's name: the entry says which.
    closing = [hold.id for hold in order.holds if hold.resolved_at is None]
    lifecycle.cancel(uow, order, reason, by=actor.subject, cause=None)
    await audit.record(
        uow,
        actor=actor,
        action="order.cancelled",
        object_type="order",
        object_id=order.order_id,
        owner_role=Role.CUSTOMER_SERVICE,
        before=before,
        after={"status": order.status, "holds_closed": closing},
        # The reason the order's history and its order.cancelled event carry (the default one
        # when the caller gave none), so the three agree.
        reason=reason,
    )
    return OrderAccepted(order_id=order.order_id, status=order.status)


async def view_order(*, uow: Work, order_id: str, viewer: Principal) -> OrderPublic:
    order = await repository.get_order(uow.session, order_id)
    if order is None or not _visible_to(viewer, order.channel):
        raise NotFound(f"no order {order_id}")
    history = await repository.history(uow.session, order_id)
    return OrderPublic(
        order_id=order.order_id,
        channel=order.channel,
        external_id=order.external_id,
        customer_id=order.customer_id,
        status=order.status,
        cancellable=Status(order.status) in domain.CANCELLABLE,
        currency=order.currency,
        total=money.shown(order.total, order.currency),
        rule_set_version=order.rule_set_version,
        fraud_score=order.fraud_score,
        lines=[
            LinePublic(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=money.shown(line.unit_price, order.currency),
                reserved=line.reserved,
                shipped=line.shipped,
            )
            for line in order.lines
        ],
        holds=[HoldPublic.model_validate(hold, from_attributes=True) for hold in order.holds],
        history=[HistoryEntry.model_validate(event, from_attributes=True) for event in history],
        promised_date=order.promised_date if order.status == Status.BACKORDERED else None,
    )


async def shipped_orders(*, uow: Work, cursor: str | None, limit: int) -> ShippedOrdersPage:
    """Orders every unit of which has left, in order id order; `cursor` is the last page's
    `next_cursor`."""
    rows = await repository.earned_orders(uow.session, EARNED, cursor=cursor, limit=limit)
    page = rows[:limit]
    return ShippedOrdersPage(
        items=[
            ShippedOrderPublic(
                order_id=row.order_id,
                currency=row.currency,
                total=money.shown(row.total, row.currency),
            )
            for row in page
        ],
        next_cursor=page[-1].order_id if len(rows) > limit else None,
    )


async def search_orders(
    *,
    uow: Work,
    viewer: Principal,
    external_id: str | None,
    customer_id: str | None,
    status: Status | None,
    channel: str | None,
    limit: int,
    cursor: str | None,
) -> OrdersPage:
    """One page of the orders matching every filter given, the newest first; a signed channel
    searches its own orders only."""
    own = partner_id(viewer, Role.CHANNEL)
    if own is not None and channel not in (None, own):
        return OrdersPage(items=[], next_cursor=None)  # another channel's: none for it
    found = await repository.search_orders(
        uow.session,
        external_id=external_id,
        customer_id=customer_id,
        status=status,
        channel=own or channel,
        before=cursor,
        limit=limit + 1,  # one more tells whether another page follows
    )
    items = [
        OrderSummary(
            order_id=o.order_id,
            channel=o.channel,
            external_id=o.external_id,
            customer_id=o.customer_id,
            status=o.status,
            currency=o.currency,
            total=money.shown(o.total, o.currency),
            created_at=o.created_at,
        )
        for o in found[:limit]
    ]
    next_cursor = items[-1].order_id if len(found) > limit else None
    return OrdersPage(items=items, next_cursor=next_cursor)


def _visible_to(principal: Principal, channel: str) -> bool:
    """Staff see every channel's orders; a signed channel its own, and no other exists for it."""
    own = partner_id(principal, Role.CHANNEL)
    return own is None or own == channel
