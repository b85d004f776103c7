"""Inventory's exception queue, in the shape every service's shares (keel_contracts.
exception_queue): opened by a count, an adjustment or a transfer that needs a person, claimed by
whoever works on it, and closed by the decision on what it is about
(keel_inventory.exception_decisions) or by the process itself (the missing units arrived).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from keel_contracts import new_event_id
from keel_contracts.exception_queue import (
    ESCALATION_PATH,
    Priority,
    escalated_to,
    may_take_claim,
    may_work_on,
)
from keel_contracts.roles import Role
from keel_contracts.times import as_utc
from keel_inventory.context import Work
from keel_inventory.count_schemas import StockExceptionPublic, StockExceptionsPage
from keel_inventory.models import StockException
from keel_inventory.paging import next_cursor, position
from keel_inventory.repository.governance import (
    escalation_candidates,
    locked,
    oldest_first,
    open_exceptions_about,
)
from keel_kit import audit
from keel_kit.access import ForbiddenActor
from keel_kit.identity import Principal
from keel_kit.problems import Conflict, NotFound


class ExceptionType(StrEnum):
    COUNT_DISCREPANCY = "count_discrepancy"
    ADJUSTMENT_APPROVAL = "adjustment_approval"
    TRANSFER_DISCREPANCY = "transfer_discrepancy"


# Operations approves adjustments and settles transfers; every type is theirs.
OWNER = Role.OPERATIONS
# How a process closes an exception nobody had to decide (the missing units came after all).
CLOSED = "closed"
ESCALATED_PER_RUN = 200  # the rest wait for the next run


async def open_exception(
    uow: Work, kind: ExceptionType, *, reference: str, reason: str
) -> StockException:
    now = uow.service.clock()
    row = StockException(
        exception_id=str(new_event_id()),
        type=kind,
        reason=reason[:400],
        reference=reference,
        owner_role=OWNER,
        opened_at=now,
        due_at=now + timedelta(hours=uow.service.settings.exception_due_hours),
    )
    uow.session.add(row)
    return row


async def close_about(uow: Work, reference: str, *, resolution: str, by: str, note: str) -> None:
    """Close the open exceptions about an adjustment or transfer, as decided."""
    for row in await open_exceptions_about(uow.session, reference):
        row.is_open = False
        row.resolved_at = uow.service.clock()
        row.resolution, row.resolution_note, row.resolved_by = resolution, note[:400], by
        uow.session.add(row)


async def page(
    *,
    uow: Work,
    resolved: bool,
    kind: ExceptionType | None,
    owner_role: Role | None,
    limit: int,
    cursor: str | None,
) -> StockExceptionsPage:
    """Open (or resolved) exceptions (of `kind`, owned by `owner_role`, if given), the first
    due first; `next_cursor` continues."""
    where = [StockException.is_open == (not resolved)]
    if kind is not None:
        where.append(StockException.type == kind)
    if owner_role is not None:
        where.append(StockException.owner_role == owner_role)
    found = await oldest_first(
        uow.session,
        StockException,
        at=StockException.due_at,
        key=StockException.exception_id,
        where=where,
        after=position(cursor),
        limit=limit + 1,
    )
    now = uow.service.clock()
    return StockExceptionsPage(
        items=[public(row, now) for row in found[:limit]],
        next_cursor=next_cursor(found, limit, lambda r: (r.due_at, r.exception_id)),
    )


async def claim(*, uow: Work, exception_id: str, actor: Principal) -> StockExceptionPublic:
    """The actor takes the exception; their own claim again changes nothing."""
    row = await open_for(uow, exception_id, actor)
    if row.claimed_by not in (None, actor.subject):
        raise Conflict(
            f"{exception_id} is claimed by {row.claimed_by}; they or operations may unclaim it"
        )
    if row.claimed_by is None:
        await _set_claim(uow, row, actor, claimer=actor.subject)
    return public(row, uow.service.clock())


async def unclaim(*, uow: Work, exception_id: str, actor: Principal) -> StockExceptionPublic:
    """The claimer lets it go, or an overseer takes it back; nobody's already is a no-op."""
    row = await open_for(uow, exception_id, actor)
    if row.claimed_by is not None:
        if not may_take_claim(row.claimed_by, actor.subject, actor.roles):
            raise ForbiddenActor(
                f"{actor.subject} ({actor.role}) may not unclaim {exception_id}: "
                f"{row.claimed_by} has it, and only they, operations or admin may let it go"
            )
        await _set_claim(uow, row, actor, claimer=None)
    return public(row, uow.service.clock())


async def open_for(uow: Work, exception_id: str, actor: Principal) -> StockException:
    """The open exception, locked, once the actor may work on it (403) and may take it from
    whoever claimed it (409)."""
    row = await locked(uow.session, StockException, exception_id)
    if row is None:
        raise NotFound(f"no exception {exception_id}")
    if not may_work_on(Role(row.owner_role), actor.roles):
        raise ForbiddenActor(
            f"{actor.subject} ({actor.role}) may not work on {exception_id}: a {row.type} is "
            f"worked by {row.owner_role} or admin"
        )
    if not row.is_open:
        raise Conflict(f"{exception_id} is already resolved ({row.resolution})")
    return row


def check_claim(row: StockException, actor: Principal) -> None:
    """A claimed exception is decided by its claimer or an overseer (409 for anyone else)."""
    if not may_take_claim(row.claimed_by, actor.subject, actor.roles):
        raise Conflict(
            f"{row.exception_id} is claimed by {row.claimed_by}: they decide it, or operations "
            "unclaims it first"
        )


async def _set_claim(
    uow: Work, row: StockException, actor: Principal, *, claimer: str | None
) -> None:
    before = row.claimed_by
    row.claimed_by = claimer
    row.claimed_at = uow.service.clock() if claimer is not None else None
    uow.session.add(row)
    await audit.record(
        uow,
        actor=actor,
        action="exception.claimed" if claimer is not None else "exception.unclaimed",
        object_type="exception",
        object_id=row.exception_id,
        owner_role=Role(row.owner_role),
        before={"claimed_by": before},
        after={"claimed_by": claimer},
    )


async def escalate_overdue(work: Work) -> None:
    """Move every open exception whose escalation step has changed up its path (a periodic
    job): audited as inventory's own act and counted. Rows another transaction holds (being
    decided, or escalated by another replica) wait for the next run."""
    now = work.service.clock()
    sla = timedelta(hours=work.service.settings.exception_due_hours)
    for row in await escalation_candidates(
        work.session, due_by=now, top=ESCALATION_PATH[-1], limit=ESCALATED_PER_RUN
    ):
        target = escalated_to(Role(row.owner_role), sla, as_utc(row.due_at), now)
        if target is None or target == row.escalated_to:
            continue
        before = row.escalated_to
        row.escalated_to, row.escalated_at = target, now
        work.session.add(row)
        work.service.kpis.exception_escalated(work.session, row.type, target)
        await audit.record(
            work,
            actor=Principal.of_service("inventory"),
            action="exception.escalated",
            object_type="exception",
            object_id=row.exception_id,
            owner_role=target,
            before={"escalated_to": before},
            after={"escalated_to": str(target)},
            reason=f"{row.type} open past its due time {as_utc(row.due_at).isoformat()}",
        )


def public(row: StockException, now: datetime) -> StockExceptionPublic:
    due_at = as_utc(row.due_at)
    ended = as_utc(row.resolved_at) if row.resolved_at is not None else now
    return StockExceptionPublic(
        exception_id=row.exception_id,
        order_id=None,
        type=row.type,
        reason=row.reason,
        reference=row.reference,
        owner_role=row.owner_role,
        priority=Priority.NORMAL,
        opened_at=row.opened_at,
        due_at=due_at,
        overdue=ended > due_at,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
        resolution_note=row.resolution_note,
        resolved_by=row.resolved_by,
        escalated_to=row.escalated_to,
        escalated_at=row.escalated_at,
    )
