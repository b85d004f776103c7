"""Returns use cases: record a return's receipt at a location, then its inspection and grades.

Every step locks the return's order row first (as authorization does), so the steps of one
order's returns, and the refund totals they add up, take turns. Both steps are on the audit
trail as warehouse's, naming who counted and graded the units.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts.events import InspectedLine, ReturnInspected, ReturnReceived
from keel_contracts.roles import Role
from keel_contracts.values import Line
from keel_kit import audit
from keel_kit.identity import Principal
from keel_kit.problems import Conflict, DomainError, NotFound
from keel_returns import domain, refunds, repository, service
from keel_returns.context import Work
from keel_returns.domain import GRADES, GradedLine, RequestedLine, ReturnStatus
from keel_returns.models import ReturnAuthorization, ReturnGrade, ReturnReceiptLine
from keel_returns.schemas import InspectionCreate, ReceiptCreate, ReturnPublic


async def locked_return(session: AsyncSession, return_id: str) -> ReturnAuthorization:
    """The return, read again once its order's row is locked."""
    authorization = await repository.get_return(session, return_id)
    if authorization is None:
        raise NotFound(f"no return {return_id}")
    await repository.order_facts(session, authorization.order_id)
    fresh = await repository.get_return(session, return_id, fresh=True)
    assert fresh is not None  # returns are never deleted
    return fresh


def require_step(authorization: ReturnAuthorization, step: str) -> None:
    try:
        domain.require_step(authorization.return_id, authorization.status, step)
    except domain.StepRefused as refused:
        raise Conflict(str(refused)) from refused


async def record_receipt(
    *, uow: Work, return_id: str, cmd: ReceiptCreate, actor: Principal
) -> ReturnPublic:
    """Record what arrived at `cmd.location_id` (no more than authorized, 422 naming the line)
    and announce it, so inventory holds the units in pending_inspection. Answers the return as
    it now stands."""
    session = uow.session
    authorization = await locked_return(session, return_id)
    require_step(authorization, "record a receipt")
    lines = await repository.return_lines(session, return_id)
    authorized = domain.per_sku((line.sku, line.quantity) for line in lines)
    try:
        received = domain.check_receipt(
            [RequestedLine(line.sku, line.quantity) for line in cmd.lines], authorized
        )
    except domain.ReturnRefused as refused:
        raise DomainError(refused.detail, field=refused.field) from refused

    before = {"status": str(authorization.status)}
    for sku, quantity in received.items():
        session.add(ReturnReceiptLine(return_id=return_id, sku=sku, quantity=quantity))
    now = uow.service.clock()
    authorization.status = ReturnStatus.RECEIVED
    authorization.location_id = cmd.location_id
    authorization.received_at = now
    authorization.updated_at = now
    session.add(authorization)
    uow.outbox.add(
        session,
        ReturnReceived(
            return_id=return_id,
            order_id=authorization.order_id,
            location_id=cmd.location_id,
            lines=tuple(Line(sku=sku, quantity=q) for sku, q in received.items()),
        ),
        key=return_id,
        correlation_id=authorization.order_id,
    )
    await audit.record(
        uow,
        actor=actor,
        action="return.received",
        object_type="return",
        object_id=return_id,
        owner_role=Role.WAREHOUSE,
        before=before,
        after={
            "status": str(authorization.status),
            "location_id": cmd.location_id,
            "received": received,
        },
    )
    return await service.get_return(uow=uow, return_id=return_id)


async def record_inspection(
    *, uow: Work, return_id: str, cmd: InspectionCreate, actor: Principal
) -> ReturnPublic:
    """Grade every received unit, announce where each grade sends the units, and work out the
    refund (requested at once, or waiting for approval above the threshold). Answers the return
    as it now stands."""
    session = uow.session
    authorization = await locked_return(session, return_id)
    require_step(authorization, "record an inspection")
    received = {x.sku: x.quantity for x in await repository.receipt_lines(session, return_id)}
    try:
        graded = domain.check_inspection(
            [GradedLine(x.sku, x.quantity, x.grade) for x in cmd.lines], received
        )
    except domain.ReturnRefused as refused:
        raise DomainError(refused.detail, field=refused.field) from refused

    before = {"status": str(authorization.status), "received": received}
    for (sku, grade), quantity in graded.items():
        session.add(ReturnGrade(return_id=return_id, sku=sku, grade=grade, quantity=quantity))
    await session.flush()  # the order's graded units below include these
    now = uow.service.clock()
    authorization.status = ReturnStatus.INSPECTED
    authorization.inspected_at = now
    authorization.updated_at = now
    session.add(authorization)
    location_id = authorization.location_id or ""
    uow.outbox.add(
        session,
        ReturnInspected(
            return_id=return_id,
            order_id=authorization.order_id,
            location_id=location_id,
            lines=tuple(
                InspectedLine(
                    sku=sku,
                    quantity=quantity,
                    grade=grade,
                    disposition=GRADES[grade].disposition,
                )
                for (sku, grade), quantity in sorted(graded.items())
            ),
        ),
        key=return_id,
        correlation_id=authorization.order_id,
    )
    await refunds.request_refund(uow=uow, authorization=authorization, graded=graded)
    view = await service.get_return(uow=uow, return_id=return_id)
    # After: the grades, and where they left the return and its refund (requested, waiting
    # for approval, or none), so the trail shows what an inspection set off.
    after = {
        "status": view.status,
        "graded": [
            {"sku": sku, "grade": str(grade), "quantity": quantity}
            for (sku, grade), quantity in sorted(graded.items())
        ],
        "refunds": [
            {
                "refund_id": r.refund_id,
                "status": r.status,
                "amount": str(r.amount.amount),
                "currency": r.amount.currency,
            }
            for r in view.refunds
        ],
        "note": view.note,
    }
    await audit.record(
        uow,
        actor=actor,
        action="return.inspected",
        object_type="return",
        object_id=return_id,
        owner_role=Role.WAREHOUSE,
        before=before,
        after=after,
    )
    return view
