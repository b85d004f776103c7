"""Deciding an inventory exception from the queue: the decision on what it is about.

`release` approves a count's or a person's adjustment, or accepts a transfer's shortfall (what
never came is written off); `reject` rejects the adjustment, or keeps waiting for the missing
units (they stay in transit for a later receipt). A claimed exception is decided by its claimer
or an overseer. The decision closes the exception; the adjustment's and transfer's own rules
(nobody decides their own adjustment, reserved units stay) apply as on their routes.
"""

from __future__ import annotations

from keel_contracts.exception_queue import ExceptionDecision
from keel_contracts.roles import Role
from keel_inventory import adjustments, stock_exceptions, transfers
from keel_inventory.context import Work
from keel_inventory.count_schemas import StockExceptionPublic
from keel_inventory.stock_exceptions import ExceptionType
from keel_kit import audit
from keel_kit.identity import Principal


async def resolve(
    *, uow: Work, exception_id: str, cmd: ExceptionDecision, actor: Principal
) -> StockExceptionPublic:
    row = await stock_exceptions.open_for(uow, exception_id, actor)
    stock_exceptions.check_claim(row, actor)
    release = cmd.decision == "release"
    if row.type == ExceptionType.TRANSFER_DISCREPANCY:
        await transfers.settle_shortfall(
            uow=uow, transfer_id=row.reference, write_off=release, actor=actor, note=cmd.note
        )
    else:
        await adjustments.decide(
            uow=uow, adjustment_id=row.reference, approve=release, actor=actor, note=cmd.note
        )
    await audit.record(
        uow,
        actor=actor,
        action="exception.resolved",
        object_type="exception",
        object_id=row.exception_id,
        owner_role=Role(row.owner_role),
        before={"type": row.type, "reference": row.reference, "open": True},
        after={"type": row.type, "reference": row.reference, "resolution": cmd.decision},
        reason=cmd.note,
    )
    return stock_exceptions.public(row, uow.service.clock())
