"""Order use cases called from HTTP: intake, cancellation, channels, the order view."""

from collections.abc import Sequence
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import new_event_id
from keel_contracts.commands import AuthorizePayment, ReserveStock
from keel_contracts.events import OrderPlaced
from keel_contracts.values import Line, Money
from keel_kit.outbox import Outbox
from keel_kit.problems import Conflict, DomainError, NotFound
from keel_order import domain, lifecycle, repository
from keel_order.domain import Status
from keel_order.models import Channel, Customer, Order, OrderEvent, OrderLine
from keel_order.schemas import (
    ChannelCreate,
    HistoryEntry,
    HoldPublic,
    LinePublic,
    OrderCreate,
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


async def place_order(*, session: AsyncSession, outbox: Outbox, cmd: OrderCreate) -> Order:
    """Accept an order and start its validation: stock, payment and rules at once."""
    channel = await repository.get_channel(session, cmd.channel)
    if channel is None:
        raise DomainError(f"unknown channel {cmd.channel}", field="channel")
    known = await repository.known_skus(session, {line.sku for line in cmd.lines})
    for index, line in enumerate(cmd.lines):
        if line.sku not in known:
            raise DomainError(f"unknown sku {line.sku}", field=f"lines.{index}.sku")
    duplicate = await repository.find_by_external_id(session, cmd.channel, cmd.external_id)
    if duplicate is not None:
        raise Conflict(
            f"{cmd.channel} order {cmd.external_id} is already order {duplicate.order_id}",
            field="external_id",
        )
    customer = await repository.get_customer(session, cmd.customer.customer_id)
    if customer is None:
        session.add(Customer(customer_id=cmd.customer.customer_id, email=cmd.customer.email))

    goods = sum((line.unit_price * line.quantity for line in cmd.lines), Decimal("0"))
    decision = domain.decide(
        domain.OrderFacts(
            line_quantities=tuple(line.quantity for line in cmd.lines),
            order_value=goods + cmd.shipping.amount,
            new_customer=customer is None,
            address_country=cmd.shipping.address.country,
            market_country=channel.market_country,
        )
    )
    order = Order(
        order_id=str(new_event_id()),
        channel=cmd.channel,
        external_id=cmd.external_id,
        customer_id=cmd.customer.customer_id,
        currency=cmd.currency,
        goods_total=goods,
        shipping_amount=cmd.shipping.amount,
        shipping_address=cmd.shipping.address.model_dump(),
        payment_method=cmd.payment.method,
        status=Status.RECEIVED,
        rule_set_version=decision.rule_set_version,
        fraud_score=decision.fraud_score,
    )
    session.add(order)
    session.add(
        OrderEvent(
            order_id=order.order_id,
            status=Status.RECEIVED,
            reason=f"from {cmd.channel} as {cmd.external_id}",
        )
    )
    session.add_all(
        OrderLine(
            order_id=order.order_id,
            line_no=n,
            sku=line.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for n, line in enumerate(cmd.lines, start=1)
    )
    lifecycle.move(
        session,
        order,
        Status.VALIDATING,
        f"rules {decision.rule_set_version}: fraud score {decision.fraud_score}",
    )
    for hold in decision.holds:
        lifecycle.open_hold(session, order, hold)
    if decision.holds:
        lifecycle.move(session, order, Status.ON_HOLD, "; ".join(h.reason for h in decision.holds))

    lines = tuple(Line(sku=line.sku, quantity=line.quantity) for line in cmd.lines)
    total = Money(amount=order.total, currency=cmd.currency)
    key = order.order_id
    outbox.add(
        session,
        OrderPlaced(
            order_id=key,
            channel=cmd.channel,
            customer_id=cmd.customer.customer_id,
            lines=lines,
            total=total,
        ),
        key=key,
    )
    outbox.add(
        session,
        ReserveStock(
            order_id=key,
            channel=cmd.channel,
            lines=lines,
            backorder=channel.backorder_policy == "backorder",
        ),
        key=key,
    )
    outbox.add(
        session,
        AuthorizePayment(
            order_id=key, amount=total, method=cmd.payment.method, token=cmd.payment.token
        ),
        key=key,
    )
    return order


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
    lines = await repository.lines(session, order_id)
    holds = await repository.holds(session, order_id)
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
        lines=[LinePublic.model_validate(line, from_attributes=True) for line in lines],
        holds=[HoldPublic.model_validate(hold, from_attributes=True) for hold in holds],
        history=[HistoryEntry.model_validate(event, from_attributes=True) for event in history],
    )
