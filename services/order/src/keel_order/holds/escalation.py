"""Escalation: an exception left open past its SLA goes up its path
(keel_contracts.exception_queue.escalated_to).

A periodic job looks at the open holds that are due and not yet at the top of the path, moves
each one whose step has changed, counts it, and audits it as the order service's own act, so the
trail shows when a hold went to operations and when to admin. Escalating again to the same role
changes nothing, so a job run twice (two replicas) escalates each step once.
"""

from __future__ import annotations

from keel_contracts.exception_queue import ESCALATION_PATH, escalated_to
from keel_contracts.roles import Role
from keel_contracts.times import as_utc
from keel_kit import audit
from keel_kit.identity import Principal
from keel_order import domain
from keel_order.context import Work
from keel_order.domain import HoldType
from keel_order.holds import repository

HOLDS_PER_RUN = 200  # the rest wait for the next run


async def escalate_overdue_holds(work: Work) -> None:
    """Move every open hold whose escalation step has changed up its path (a periodic job)."""
    now = work.service.clock()
    top = ESCALATION_PATH[-1]
    for hold in await repository.escalation_candidates(
        work.session, due_by=now, top=top, limit=HOLDS_PER_RUN
    ):
        hold_type = HoldType(hold.type)
        sla = domain.HOLD_SLA[hold_type]
        target = escalated_to(Role(hold.owner_role), sla, as_utc(hold.due_at), now)
        if target is None or target == hold.escalated_to:
            continue
        before = hold.escalated_to
        hold.escalated_to, hold.escalated_at = target, now
        work.session.add(hold)
        work.service.kpis.exception_escalated(work.session, hold_type, target)
        await audit.record(
            work,
            actor=Principal.of_service("order"),
            action="hold.escalated",
            object_type="hold",
            object_id=hold.order_id,  # as its other entries are: the order's id finds them all
            owner_role=target,
            before={"hold_id": hold.id, "escalated_to": before},
            after={"hold_id": hold.id, "escalated_to": str(target)},
            reason=f"{hold_type} open past its due time {as_utc(hold.due_at).isoformat()}",
        )
