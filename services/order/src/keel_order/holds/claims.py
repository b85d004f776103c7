"""Claims on the exception queue, and the queue's own door to a decision.

A person claims an open hold before working on it, so two people never both call the customer
or both decide; the queue shows who has it. The claimer, or an overseer (operations, admin)
taking it over, unclaims it. While it is claimed, only the claimer or an overseer decides it.
Every claim and unclaim is audited, as a decision is.

The queue names a hold by its `exception_id` (`hold-<id>`); `resolve` here is the same decision
as `POST /v1/orders/{order_id}/holds/{hold_id}/resolve`.
"""

from __future__ import annotations

from keel_contracts.exception_queue import ExceptionDecision, may_take_claim, may_work_on
from keel_contracts.roles import Role
from keel_kit import audit
from keel_kit.access import ForbiddenActor
from keel_kit.identity import Principal
from keel_kit.problems import Conflict, NotFound
from keel_order import repository
from keel_order.context import Work
from keel_order.holds import service as holds
from keel_order.holds.schemas import ExceptionPublic, HoldResolution, HoldResolve
from keel_order.holds.service import EXCEPTION_PREFIX
from keel_order.models import Order, OrderHold


async def claim(*, uow: Work, exception_id: str, actor: Principal) -> ExceptionPublic:
    """The actor takes the hold; claiming one's own claim again changes nothing."""
    order, hold = await _open_hold(uow, exception_id, actor)
    if hold.claimed_by not in (None, actor.subject):
        raise Conflict(
            f"{exception_id} is claimed by {hold.claimed_by}; they or operations may unclaim it"
        )
    if hold.claimed_by is None:
        await _set_claim(uow, order, hold, actor, claimer=actor.subject)
    return holds.to_public(hold, uow.service.clock())


async def unclaim(*, uow: Work, exception_id: str, actor: Principal) -> ExceptionPublic:
    """The claimer lets the hold go, or an overseer takes it back; unclaimed already is a no-op."""
    order, hold = await _open_hold(uow, exception_id, actor)
    if hold.claimed_by is not None:
        if not may_take_claim(hold.claimed_by, actor.subject, actor.roles):
            raise ForbiddenActor(
                f"{actor.subject} ({actor.role}) may not unclaim {exception_id}: "
                f"{hold.claimed_by} has it, and only they, operations or admin may let it go"
            )
        await _set_claim(uow, order, hold, actor, claimer=None)
    return holds.to_public(hold, uow.service.clock())


async def resolve(
    *, uow: Work, exception_id: str, cmd: ExceptionDecision, actor: Principal
) -> HoldResolution:
    """Decide the hold the queue names, as the order's hold route does."""
    hold = await _find_hold(uow, exception_id)
    return await holds.resolve_hold(
        uow=uow,
        order_id=hold.order_id,
        hold_id=_hold_number(exception_id),
        cmd=HoldResolve(decision=cmd.decision, note=cmd.note),
        actor=actor,
    )


async def _set_claim(
    uow: Work, order: Order, hold: OrderHold, actor: Principal, *, claimer: str | None
) -> None:
    before = hold.claimed_by
    hold.claimed_by = claimer
    hold.claimed_at = uow.service.clock() if claimer is not None else None
    uow.session.add(hold)
    await audit.record(
        uow,
        actor=actor,
        action="hold.claimed" if claimer is not None else "hold.unclaimed",
        object_type="hold",
        object_id=order.order_id,  # as a decision is recorded: the order's id finds them all
        owner_role=Role(hold.owner_role),
        before={"hold_id": hold.id, "claimed_by": before},
        after={"hold_id": hold.id, "claimed_by": claimer},
    )


async def _open_hold(uow: Work, exception_id: str, actor: Principal) -> tuple[Order, OrderHold]:
    """The named hold with its order locked, after the checks every claim change makes: the
    actor may decide such holds (403), and the hold is still open (409)."""
    found = await _find_hold(uow, exception_id)
    order = await repository.get_order(uow.session, found.order_id, lock=True)
    hold = next((h for h in order.holds if h.id == found.id), None) if order else None
    if order is None or hold is None:
        raise NotFound(f"no exception {exception_id}")
    owner = Role(hold.owner_role)
    if not may_work_on(owner, actor.roles):
        raise ForbiddenActor(
            f"{actor.subject} ({actor.role}) may not work on {exception_id}: a {hold.type} is "
            f"worked by {owner}, operations or admin"
        )
    if hold.resolved_at is not None:
        raise Conflict(f"{exception_id} is already resolved ({hold.resolution})")
    return order, hold


async def _find_hold(uow: Work, exception_id: str) -> OrderHold:
    hold = await uow.session.get(OrderHold, _hold_number(exception_id))
    if hold is None:
        raise NotFound(f"no exception {exception_id}")
    return hold


def _hold_number(exception_id: str) -> int:
    number = exception_id.removeprefix(EXCEPTION_PREFIX)
    if not exception_id.startswith(EXCEPTION_PREFIX) or not number.isdigit() or len(number) > 9:
        raise NotFound(f"no exception {exception_id}: this queue's ids are hold-<number>")
    return int(number)
