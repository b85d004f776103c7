"""Exception queue HTTP API: the holds waiting on a person, and their resolution."""

from typing import Annotated

from fastapi import APIRouter, Query

from keel_kit.app import RuntimeDep
from keel_kit.query import CursorQuery
from keel_order import holds
from keel_order.domain import HoldType
from keel_order.holds_schemas import (
    ExceptionsPage,
    HoldResolution,
    HoldResolve,
    QueueStatus,
    Role,
)
from keel_order.models import REFERENCE_LENGTH

router = APIRouter(prefix="/v1", tags=["exceptions"])

MAX_PAGE = 200


@router.get("/exceptions")
async def exception_queue(
    runtime: RuntimeDep,
    owner_role: Role | None = None,
    hold_type: Annotated[HoldType | None, Query(alias="type")] = None,
    reference: Annotated[str | None, Query(min_length=1, max_length=REFERENCE_LENGTH)] = None,
    status: QueueStatus = "open",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: CursorQuery = None,
) -> ExceptionsPage:
    """Holds by due date, the oldest due first; pass `next_cursor` back as `cursor` for more.

    `reference` picks the holds about one thing: `type=supplier_delay&reference={po}` lists
    every order a purchase order's delay touches.
    """
    async with runtime.db.transaction() as session:
        return await holds.exception_queue(
            session=session,
            status=status,
            owner_role=owner_role,
            hold_type=hold_type,
            reference=reference,
            limit=limit,
            cursor=cursor,
        )


@router.post("/orders/{order_id}/holds/{hold_id}/resolve")
async def resolve_hold(
    order_id: str, hold_id: int, body: HoldResolve, runtime: RuntimeDep
) -> HoldResolution:
    """Release or reject a hold; the order resumes or is rejected with its compensations.

    Not repeatable: a hold already resolved is a 409, even for the same decision, because its
    effects (the saga resumed, the order rejected) have already happened once.
    """
    async with runtime.db.transaction() as session:
        return await holds.resolve_hold(
            session=session, outbox=runtime.outbox, order_id=order_id, hold_id=hold_id, cmd=body
        )
