"""Order intake: one web-store order or a marketplace's batch of them, accepted the same way.

A batch costs a fixed handful of queries whatever its size: the channels, the known SKUs, the
external ids already taken and the customers already seen are each read once, then orders,
lines and history are written in bulk. Each order is judged alone: one refused order (an unknown
SKU, a duplicate) leaves no trace and does not stop the others. Each order runs once per
Idempotency-Key (`keel_kit.idempotency`): a retry replays the answer it was given.

A SKU missing from the item replica is refused (422) only once the replica has caught up with
the item topic; while it lags, the order is answered 503 (`ReplicaBehind`): it may be known in
a moment, and a retry with the same Idempotency-Key is judged afresh.
"""

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from keel_contracts import new_event_id
from keel_contracts.commands import AuthorizeSealedPayment, ReserveStock
from keel_contracts.events import OrderedLine, OrderPlaced
from keel_contracts.roles import Role
from keel_contracts.values import Line, Money
from keel_kit import sealing, telemetry
from keel_kit.access import ForbiddenActor
from keel_kit.catchup import ReplicaBehind
from keel_kit.idempotency import Answer, Outcome, recall_many
from keel_kit.identity import Principal
from keel_kit.partners import partner_id
from keel_kit.problems import Conflict, DomainError
from keel_kit.replicas import ITEMS_TOPIC
from keel_order import domain, lifecycle, repository
from keel_order.context import Work
from keel_order.domain import BackorderPolicy, PaymentState, Status, StockState
from keel_order.models import Channel, OrderHold
from keel_order.schemas import (
    BatchAccepted,
    BatchOutcome,
    OrderAccepted,
    OrderBatch,
    OrderCreate,
)


@dataclass
class _Known:
    """What the batch's checks need, read once for the whole batch and kept current as it goes."""

    channels: dict[str, Channel]
    skus: set[str]
    taken: dict[tuple[str, str], str]  # (channel, external id) -> order id
    customers: set[str]
    items_behind: ReplicaBehind | None = None  # set when a SKU is missing and the replica lags
    # (channel, customer) -> units held in open orders, for channels that cap them
    held: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass
class _Rows:
    orders: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    holds: list[OrderHold] = field(default_factory=list)  # rare: added after their orders


async def place_order(*, uow: Work, key: str, cmd: OrderCreate, caller: Principal) -> Answer:
    """Accept one order, or replay the answer its `key` was given; a refusal is raised, so
    the order leaves no trace."""
    [outcome] = await _once_per_key(uow, [(key, cmd)], caller)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


async def place_orders(*, uow: Work, cmd: OrderBatch, caller: Principal) -> BatchAccepted:
    """Accept or refuse each order of a batch alone, each once per its key, answering each
    with what a single POST would have answered."""
    requests = [(item.idempotency_key, item.order) for item in cmd.orders]
    outcomes = await _once_per_key(uow, requests, caller)
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


async def _once_per_key(
    uow: Work, requests: list[tuple[str, OrderCreate]], caller: Principal
) -> list[Outcome]:
    async def accept(orders: Sequence[OrderCreate]) -> Sequence[BaseModel | DomainError]:
        return await _accept_orders(uow, orders, partner_id(caller, Role.CHANNEL))

    return await recall_many(
        uow.session, scope="orders", requests=requests, status_code=202, run=accept
    )


async def _accept_orders(
    uow: Work, orders: Sequence[OrderCreate], signed_channel: str | None
) -> list[OrderAccepted | DomainError]:
    """Accept each order and start its validation (stock, payment and rules at once), or say
    why not. The answers are in the order of `orders`."""
    session = uow.session
    wanted = {line.sku for o in orders for line in o.lines}
    known = _Known(
        channels=await repository.channels_by_id(session, {o.channel for o in orders}),
        skus=await repository.known_skus(session, wanted),
        taken=await repository.orders_by_external_id(
            session, {(o.channel, o.external_id) for o in orders}
        ),
        customers=await repository.known_customers(
            session, {o.customer.customer_id for o in orders}
        ),
    )
    known.held = await repository.units_held(
        session,
        {(o.channel, o.customer.customer_id) for o in orders if _cap(known, o) is not None},
    )
    if missing := wanted - known.skus:
        known.items_behind = await uow.service.catchup.behind(ITEMS_TOPIC, keys=missing)
        if known.items_behind is None:  # caught up: what arrived while we asked is in now
            known.skus |= await repository.known_skus(session, missing)
    rows = _Rows()
    answers: list[OrderAccepted | DomainError] = []
    for cmd in orders:
        refusal = _refusal(cmd, known, signed_channel)
        if refusal is not None:
            answers.append(refusal)
            continue
        # One of several is traced on its own, from here to its last posting, linked with
        # the batch request's trace.
        with telemetry.trace_of_its_own("order accepted") if len(orders) > 1 else nullcontext():
            answers.append(_accept(uow, cmd, known, rows, now=uow.service.clock()))
    await repository.insert_new_orders(
        session,
        customers=rows.customers,
        orders=rows.orders,
        lines=rows.lines,
        history=rows.history,
    )
    session.add_all(rows.holds)  # after their orders, which they refer to
    return answers


def _refusal(cmd: OrderCreate, known: _Known, signed_channel: str | None) -> DomainError | None:
    if signed_channel is not None and cmd.channel != signed_channel:
        return ForbiddenActor(
            f"channel {signed_channel} may not place orders for channel {cmd.channel}",
            field="channel",
        )
    if cmd.channel not in known.channels:
        return DomainError(f"unknown channel {cmd.channel}", field="channel")
    for index, line in enumerate(cmd.lines):
        if line.sku not in known.skus:
            field = f"lines.{index}.sku"
            if known.items_behind is not None:
                return known.items_behind.naming(f"sku {line.sku}", field=field)
            return DomainError(f"unknown sku {line.sku}", field=field)
    existing = known.taken.get((cmd.channel, cmd.external_id))
    if existing is not None:
        return Conflict(
            f"{cmd.channel} order {cmd.external_id} is already order {existing}",
            field="external_id",
        )
    return _beyond_cap(cmd, known)


def _cap(known: _Known, cmd: OrderCreate) -> int | None:
    channel = known.channels.get(cmd.channel)
    return None if channel is None else channel.max_units_per_customer


def _beyond_cap(cmd: OrderCreate, known: _Known) -> DomainError | None:
    """The channel's cap on the units one customer may hold: an order that would pass it is
    refused before it reserves anything."""
    cap = _cap(known, cmd)
    if cap is None:
        return None
    held = known.held.get((cmd.channel, cmd.customer.customer_id), 0)
    units = sum(line.quantity for line in cmd.lines)
    if held + units <= cap:
        return None
    return DomainError(
        f"customer {cmd.customer.customer_id} holds {held} units in open {cmd.channel} orders; "
        f"{units} more would pass the {cap} one customer may hold on this channel",
        field="lines",
    )


def _accept(
    uow: Work, cmd: OrderCreate, known: _Known, rows: _Rows, *, now: datetime
) -> OrderAccepted:
    channel = known.channels[cmd.channel]
    order_id = str(new_event_id())
    skus = {line.sku for line in cmd.lines}
    telemetry.name_order(order_id, channel=cmd.channel, sku_count=len(skus))
    known.taken[(cmd.channel, cmd.external_id)] = order_id
    if channel.max_units_per_customer is not None:  # the batch's next orders count this one
        holder = (cmd.channel, cmd.customer.customer_id)
        known.held[holder] = known.held.get(holder, 0) + sum(line.quantity for line in cmd.lines)
    new_customer = cmd.customer.customer_id not in known.customers
    if new_customer:
        known.customers.add(cmd.customer.customer_id)
        rows.customers.append(
            {
                "customer_id": cmd.customer.customer_id,
                "email": cmd.customer.email,
                "first_order_at": now,
            }
        )
    goods = cmd.goods
    decision = domain.decide(
        domain.OrderFacts(
            line_quantities=tuple(line.quantity for line in cmd.lines),
            order_value=goods + cmd.shipping.amount,
            new_customer=new_customer,
            address_country=cmd.shipping.address.country,
            market_country=channel.market_country,
        ),
        uow.service.rules,
    )
    # Received, then validating at once; a rule's hold puts the order straight in front of a
    # person, while stock and payment are asked all the same so the answer waits on one thing.
    steps = [
        (Status.RECEIVED, f"from {cmd.channel} as {cmd.external_id}"),
        (
            Status.VALIDATING,
            f"rules {decision.rule_set_version}: fraud score {decision.fraud_score}",
        ),
    ]
    if decision.holds:
        steps.append((Status.ON_HOLD, "; ".join(h.reason for h in decision.holds)))
        for hold in decision.holds:
            rows.holds.append(
                lifecycle.new_hold(order_id, decision.rule_set_version, hold, now=now)
            )
    status = steps[-1][0]
    rows.orders.append(
        {
            "order_id": order_id,
            "channel": cmd.channel,
            "external_id": cmd.external_id,
            "customer_id": cmd.customer.customer_id,
            "currency": cmd.currency,
            "goods_total": goods,
            "shipping_amount": cmd.shipping.amount,
            "shipping_address": cmd.shipping.address.model_dump(),
            "payment_method": cmd.payment.method,
            "status": status.value,
            "stock_state": StockState.PENDING.value,
            "payment_state": PaymentState.PENDING.value,
            "allocations": [],
            "rule_set_version": decision.rule_set_version,
            "fraud_score": decision.fraud_score,
            "created_at": now,
            "updated_at": now,
        }
    )
    rows.history.extend(
        {"order_id": order_id, "status": step.value, "reason": reason, "at": now}
        for step, reason in steps
    )
    rows.lines.extend(
        {
            "order_id": order_id,
            "line_no": n,
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "reserved": 0,
            "shipped": 0,
        }
        for n, line in enumerate(cmd.lines, start=1)
    )
    _ask_for_validation(uow, cmd, order_id, channel, goods + cmd.shipping.amount)
    uow.service.kpis.order_accepted(uow.session, cmd.channel)
    return OrderAccepted(order_id=order_id, status=status)


def _ask_for_validation(
    uow: Work,
    cmd: OrderCreate,
    order_id: str,
    channel: Channel,
    total_amount: Decimal,
) -> None:
    lines = tuple(Line(sku=line.sku, quantity=line.quantity) for line in cmd.lines)
    total = Money(amount=total_amount, currency=cmd.currency)
    placed = OrderPlaced(
        order_id=order_id,
        channel=cmd.channel,
        customer_id=cmd.customer.customer_id,
        lines=tuple(
            OrderedLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=Money(amount=line.unit_price, currency=cmd.currency),
            )
            for line in cmd.lines
        ),
        total=total,
        shipping=Money(amount=cmd.shipping.amount, currency=cmd.currency),
    )
    reserve = ReserveStock(
        order_id=order_id,
        channel=cmd.channel,
        lines=lines,
        backorder=channel.backorder_policy == BackorderPolicy.BACKORDER,
    )
    authorize = AuthorizeSealedPayment(
        order_id=order_id,
        amount=total,
        method=cmd.payment.method,
        # The card token leaves this service sealed for finance alone.
        sealed_token=sealing.seal(uow.service.settings.auth_folder, "finance", cmd.payment.token),
    )
    for message in (placed, reserve, authorize):
        uow.outbox.add(uow.session, message, key=order_id)
