"""Exception queue HTTP API: the holds waiting on a person, and their resolution."""

from typing import Annotated

from fastapi import APIRouter, Query

from keel_contracts.exception_queue import ExceptionDecision
from keel_contracts.roles import Role
from keel_kit.access import PrincipalDep
from keel_kit.query import CursorQuery
from keel_order.context import OrderDep
from keel_order.domain import HoldState, HoldType
from keel_order.holds import claims
from keel_order.holds import service as holds
from keel_order.holds.schemas import (
    ExceptionPublic,
    ExceptionsPage,
    HoldResolution,
    HoldResolve,
)
from keel_order.models import REFERENCE_LENGTH

router = APIRouter(prefix="/v1", tags=["exceptions"])

MAX_PAGE = 200


@router.get("/exceptions")
async def exception_queue(
    orders: OrderDep,
    owner_role: Role | None = None,
    hold_type: Annotated[HoldType | None, Query(alias="type")] = None,
    reference: Annotated[str | None, Query(min_length=1, max_length=REFERENCE_LENGTH)] = None,
    status: HoldState = HoldState.OPEN,
    escalated_to: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: CursorQuery = None,
) -> ExceptionsPage:
    """Holds by due date, the oldest due first; pass `next_cursor` back as `cursor` for more.

    `reference` picks the holds about one thing: `type=supplier_delay&reference={po}` lists
    every order a purchase order's delay touches; `escalated_to=admin` those overdue long
    enough to have gone up to admin.
    """
    async with orders.unit_of_work() as uow:
        return await holds.exception_queue(
            uow=uow,
            status=status,
            owner_role=owner_role,
            hold_type=hold_type,
            reference=reference,
            escalated_to=escalated_to,
            limit=limit,
            cursor=cursor,
        )


@router.post("/orders/{order_id}/holds/{hold_id}/resolve")
async def resolve_hold(
    order_id: str, hold_id: int, body: HoldResolve, orders: OrderDep, principal: PrincipalDep
) -> HoldResolution:
    """Release or reject a hold; the order resumes or is rejected with its compensations.

    The caller resolves, and only a hold their role owns (finance a payment_hold, customer
    service a fraud_review or supplier_delay, operations the rest); operations and admin may
    resolve any (403 otherwise). `resolved_by` may be left out; naming anyone else is a 403.

    Not repeatable: a hold already resolved is a 409, even for the same decision, because its
    effects (the saga resumed, the order rejected) have already happened once.
    """
    async with orders.unit_of_work() as uow:
        return await holds.resolve_hold(
            uow=uow, order_id=order_id, hold_id=hold_id, cmd=body, actor=principal
        )


@router.post("/exceptions/{exception_id}/claim")
async def claim_exception(
    exception_id: str, orders: OrderDep, principal: PrincipalDep
) -> ExceptionPublic:
    """Take an open exception to work on it; the queue shows who has it.

    Claiming your own claim again changes nothing; one someone else holds is a 409 until they
    (or operations) unclaim it. Whoever may resolve the exception may claim it (403 otherwise).
    """
    async with orders.unit_of_work() as uow:
        return await claims.claim(uow=uow, exception_id=exception_id, actor=principal)


@router.post("/exceptions/{exception_id}/unclaim")
async def unclaim_exception(
    exception_id: str, orders: OrderDep, principal: PrincipalDep
) -> ExceptionPublic:
    """Let an exception go back to the queue: its claimer may, and operations or admin may take
    anyone's claim back (403 for others). Unclaiming one nobody has changes nothing."""
    async with orders.unit_of_work() as uow:
        return await claims.unclaim(uow=uow, exception_id=exception_id, actor=principal)


@router.post("/exceptions/{exception_id}/resolve")
async def resolve_exception(
    exception_id: str, body: ExceptionDecision, orders: OrderDep, principal: PrincipalDep
) -> HoldResolution:
    """Decide an exception (`release` or `reject`, with a note): the same decision as the order's
    hold route, under the same rules. A claimed exception is decided by its claimer, or by
    operations or admin (409 for anyone else)."""
    async with orders.unit_of_work() as uow:
        return await claims.resolve(uow=uow, exception_id=exception_id, cmd=body, actor=principal)
