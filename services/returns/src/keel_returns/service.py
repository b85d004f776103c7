"""Returns use cases: authorize a return, look one up or list them by status, set the return
policies.

Receipt and inspection live in `inspections`, refunds in `refunds`. Authorizing a return and
setting a policy are on the audit trail, naming who did it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from keel_contracts import new_event_id, topic_for_message
from keel_contracts.events import ReturnAuthorized, ShipmentShipped
from keel_contracts.roles import Role
from keel_contracts.times import as_utc
from keel_contracts.values import Line
from keel_kit import audit, cursors
from keel_kit.identity import Principal
from keel_kit.problems import DomainError, NotFound
from keel_returns import domain, refunds, repository
from keel_returns.context import Work
from keel_returns.domain import GRADES, Clock, Grade, RequestedLine, Returnable, ReturnStatus
from keel_returns.models import (
    ChannelReturnPolicy,
    Refund,
    ReturnAuthorization,
    ReturnLine,
    SkuReturnPolicy,
)
from keel_returns.schemas import (
    ChannelPolicyIn,
    ChannelPolicyPublic,
    GradedPublic,
    ReturnAccepted,
    ReturnCreate,
    ReturnItemPublic,
    ReturnLinePublic,
    ReturnPublic,
    ReturnsPage,
    SkuPolicyIn,
    SkuPolicyPublic,
)

# Where what shipped and what was delivered comes from, keyed by order id.
SHIPMENTS_TOPIC = topic_for_message(ShipmentShipped).name


async def authorize_return(*, uow: Work, cmd: ReturnCreate, actor: Principal) -> ReturnAccepted:
    """Authorize a return of shipped units, or refuse naming the line at fault.

    The order's row is locked first, so concurrent requests (and the projection) for one order
    take turns and two returns can never together exceed what shipped.

    What shipped (and when it was delivered) is learnt from fulfillment's events, so a refusal
    is given only once this service has applied every shipment event of the order's partition;
    while it lags, the answer is a 503 to retry (`ReplicaBehind`).
    """
    session = uow.session
    try:
        facts = await _returnable(uow, cmd)
    except domain.ReturnRefused as refused:
        await uow.service.catchup.require_caught_up(
            SHIPMENTS_TOPIC,
            [cmd.order_id],
            missing=f"what order {cmd.order_id} shipped",
            field=refused.field,
        )
        await repository.load_orders(session, {cmd.order_id})  # afresh: it may have changed
        try:
            facts = await _returnable(uow, cmd)
        except domain.ReturnRefused as final:
            raise DomainError(final.detail, field=final.field) from final
    assert facts.order is not None  # _returnable refuses an order it has not heard of
    channel = facts.order.channel

    authorization = ReturnAuthorization(
        return_id=str(new_event_id()),
        order_id=cmd.order_id,
        channel=channel,
        status=ReturnStatus.AUTHORIZED,
    )
    session.add(authorization)
    for n, line in enumerate(cmd.lines):
        session.add(
            ReturnLine(
                return_id=authorization.return_id,
                line_no=n,
                sku=line.sku,
                quantity=line.quantity,
                reason=line.reason,
            )
        )
        facts.items[line.sku].returned += line.quantity
    uow.outbox.add(
        session,
        ReturnAuthorized(
            return_id=authorization.return_id,
            order_id=cmd.order_id,
            lines=tuple(
                Line(sku=sku, quantity=quantity)
                for sku, quantity in domain.per_sku(
                    (line.sku, line.quantity) for line in cmd.lines
                ).items()
            ),
        ),
        key=authorization.return_id,
        correlation_id=cmd.order_id,
    )
    await audit.record(
        uow,
        actor=actor,
        action="return.authorized",
        object_type="return",
        object_id=authorization.return_id,
        owner_role=Role.CUSTOMER_SERVICE,
        after={
            "status": str(authorization.status),
            "order_id": cmd.order_id,
            "channel": channel,
            "lines": [line.model_dump(mode="json") for line in cmd.lines],
        },
    )
    return ReturnAccepted(return_id=authorization.return_id, status=authorization.status)


async def _returnable(uow: Work, cmd: ReturnCreate) -> repository.OrderFacts:
    """The order's facts if every requested line may come back; else `ReturnRefused`."""
    session = uow.session
    facts = await repository.order_facts(session, cmd.order_id)
    if facts.order is None:
        raise domain.ReturnRefused(f"nothing of order {cmd.order_id} has shipped", field="order_id")
    channel = facts.order.channel
    policies = await repository.sku_policies(session, {line.sku for line in cmd.lines})
    domain.check_return(
        order_id=cmd.order_id,
        channel=channel,
        lines=[RequestedLine(line.sku, line.quantity) for line in cmd.lines],
        items={
            sku: Returnable(
                sku=sku,
                shipped=item.shipped,
                returned=item.returned,
                clock=Clock(item.window_from, delivered=item.window_from_delivery),
            )
            for sku, item in facts.items.items()
        },
        not_returnable={p.sku: p.reason or "" for p in policies if not p.returnable},
        window_days=await _window_days(uow, channel),
        now=uow.service.clock(),
    )
    return facts


async def get_return(*, uow: Work, return_id: str) -> ReturnPublic:
    authorization = await repository.get_return(uow.session, return_id)
    if authorization is None:
        raise NotFound(f"no return {return_id}")
    (view,) = await _views(uow, [authorization])
    return view


RETURN_ID_LENGTH = 36


async def returns_page(
    *, uow: Work, status: ReturnStatus, location_id: str | None, limit: int, cursor: str | None
) -> ReturnsPage:
    """One page of the returns in `status`, the oldest first: the warehouse receives the
    `authorized` ones and inspects the `received` ones (at `location_id`, where they came in)."""
    if location_id is not None and status == ReturnStatus.AUTHORIZED:
        raise DomainError(
            "an authorized return is at no location until it is received", field="location_id"
        )
    found = await repository.returns_in(
        uow.session,
        status=status,
        location_id=location_id,
        after=_decode_cursor(cursor) if cursor is not None else None,
        limit=limit + 1,  # one more tells whether another page follows
    )
    last = found[limit - 1] if len(found) > limit else None
    next_cursor = cursors.encode_cursor([as_utc(last.created_at), last.return_id]) if last else None
    return ReturnsPage(items=await _views(uow, found[:limit]), next_cursor=next_cursor)


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    created_at, return_id = cursors.decode_cursor(cursor, parts=2)
    if not 0 < len(return_id) <= RETURN_ID_LENGTH:
        raise cursors.not_a_cursor()
    return cursors.cursor_datetime(created_at), return_id


async def _views(uow: Work, found: Sequence[ReturnAuthorization]) -> list[ReturnPublic]:
    """The returns as the API shows them, their lines, receipts, grades and refunds read in one
    query each however many there are."""
    session = uow.session
    ids = [x.return_id for x in found]
    lines: dict[str, list[ReturnLine]] = defaultdict(list)
    for line in await repository.lines_of_returns(session, ids):
        lines[line.return_id].append(line)
    received: dict[str, dict[str, int]] = defaultdict(dict)
    for receipt in await repository.receipt_lines_of_returns(session, ids):
        received[receipt.return_id][receipt.sku] = receipt.quantity
    graded: dict[str, dict[str, list[GradedPublic]]] = defaultdict(dict)
    for row in await repository.grades_of_returns(session, ids):
        grade = Grade(row.grade)
        graded[row.return_id].setdefault(row.sku, []).append(
            GradedPublic(grade=grade, quantity=row.quantity, disposition=GRADES[grade].disposition)
        )
    paid: dict[str, list[Refund]] = defaultdict(list)
    for refund in await repository.refunds_of_returns(session, ids):
        paid[refund.return_id].append(refund)
    return [
        _view(x, lines[x.return_id], received[x.return_id], graded[x.return_id], paid[x.return_id])
        for x in found
    ]


def _view(
    authorization: ReturnAuthorization,
    lines: list[ReturnLine],
    received: dict[str, int],
    graded: dict[str, list[GradedPublic]],
    refunds_made: list[Refund],
) -> ReturnPublic:
    authorized = domain.per_sku((x.sku, x.quantity) for x in lines)
    return ReturnPublic(
        return_id=authorization.return_id,
        order_id=authorization.order_id,
        channel=authorization.channel,
        status=authorization.status,
        created_at=as_utc(authorization.created_at),
        lines=[ReturnLinePublic(sku=x.sku, quantity=x.quantity, reason=x.reason) for x in lines],
        location_id=authorization.location_id,
        authorized_at=as_utc(authorization.created_at),
        received_at=_utc(authorization.received_at),
        inspected_at=_utc(authorization.inspected_at),
        refunded_at=_utc(authorization.refunded_at),
        note=authorization.note,
        items=[
            ReturnItemPublic(
                sku=sku,
                authorized=quantity,
                received=received.get(sku, 0),
                graded=graded.get(sku, []),
            )
            for sku, quantity in authorized.items()
        ],
        refunds=[refunds.public(x) for x in refunds_made],
    )


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


async def set_sku_policy(
    *, uow: Work, sku: str, cmd: SkuPolicyIn, actor: Principal
) -> SkuPolicyPublic:
    policy = await repository.get_sku_policy(uow.session, sku)
    before = None if policy is None else _sku_policy_state(policy)
    if policy is None:
        policy = SkuReturnPolicy(sku=sku, returnable=cmd.returnable)
    policy.returnable = cmd.returnable
    policy.reason = cmd.reason
    policy.updated_at = uow.service.clock()
    uow.session.add(policy)
    await audit.record(
        uow,
        actor=actor,
        action="return_policy.sku_put",
        object_type="sku_return_policy",
        object_id=sku,
        owner_role=Role.OPERATIONS,
        before=before,
        after=_sku_policy_state(policy),
    )
    return SkuPolicyPublic(sku=sku, returnable=policy.returnable, reason=policy.reason)


def _sku_policy_state(policy: SkuReturnPolicy) -> dict[str, Any]:
    return {"returnable": policy.returnable, "reason": policy.reason}


async def sku_policy(*, uow: Work, sku: str) -> SkuPolicyPublic:
    policy = await repository.get_sku_policy(uow.session, sku)
    if policy is None:
        return SkuPolicyPublic(sku=sku, returnable=True, reason=None)
    return SkuPolicyPublic(sku=sku, returnable=policy.returnable, reason=policy.reason)


async def set_channel_policy(
    *, uow: Work, channel: str, cmd: ChannelPolicyIn, actor: Principal
) -> ChannelPolicyPublic:
    policy = await repository.get_channel_policy(uow.session, channel)
    # None: the channel had no window of its own (it got the service's default).
    before = None if policy is None else {"window_days": policy.window_days}
    if policy is None:
        policy = ChannelReturnPolicy(channel=channel, window_days=cmd.window_days)
    policy.window_days = cmd.window_days
    policy.updated_at = uow.service.clock()
    uow.session.add(policy)
    await audit.record(
        uow,
        actor=actor,
        action="return_policy.channel_put",
        object_type="channel_return_policy",
        object_id=channel,
        owner_role=Role.OPERATIONS,
        before=before,
        after={"window_days": policy.window_days},
    )
    return ChannelPolicyPublic(channel=channel, window_days=policy.window_days, default=False)


async def channel_policy(*, uow: Work, channel: str) -> ChannelPolicyPublic:
    policy = await repository.get_channel_policy(uow.session, channel)
    if policy is None:
        default_window_days = uow.service.settings.default_window_days
        return ChannelPolicyPublic(channel=channel, window_days=default_window_days, default=True)
    return ChannelPolicyPublic(channel=channel, window_days=policy.window_days, default=False)


async def _window_days(uow: Work, channel: str | None) -> int:
    """The channel's window; an order whose channel this service has not learnt gets the
    default."""
    default = uow.service.settings.default_window_days
    if channel is None:
        return default
    policy = await repository.get_channel_policy(uow.session, channel)
    return default if policy is None else policy.window_days
