"""One shape for every service's exception queue (DESIGN §5), so the console shows them together.

A service that owns exceptions answers `GET /v1/exceptions` with pages of `ExceptionItem` (it may
add fields of its own) and takes `POST /v1/exceptions/{exception_id}/claim`, `/unclaim` and
`/resolve` with an `ExceptionDecision`. The `exception_id` is a string the owning service makes
and alone parses; the console names an exception by its service and that id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from keel_contracts.limits import NoControl
from keel_contracts.roles import Role
from keel_contracts.times import UtcDatetime

# Who may work on any exception, beside the role that owns it.
OVERSEERS = frozenset({Role.OPERATIONS, Role.ADMIN})


# The escalation path (DESIGN §2): an exception open past its due time goes up to operations,
# who run the queue, and a whole SLA later to admin, the head of operations; one operations owns
# goes straight to admin. Escalating shows it to whom it went and audits it; overseers may
# already decide any exception, so it grants nothing.
ESCALATION_PATH = (Role.OPERATIONS, Role.ADMIN)


def escalated_to(owner: Role, sla: timedelta, due_at: datetime, now: datetime) -> Role | None:
    """Whom an open exception is escalated to at `now`: nobody before it is due, then one step
    up the path for each whole `sla` it stays open past its due time."""
    if now < due_at:
        return None
    path = [role for role in ESCALATION_PATH if role != owner]
    step = int((now - due_at) / sla)
    return path[min(step, len(path) - 1)]


def may_work_on(owner: Role, roles: frozenset[Role]) -> bool:
    """Whether a principal with `roles` may claim or decide an exception owned by `owner`."""
    return owner in roles or bool(roles & OVERSEERS)


def may_take_claim(claimed_by: str | None, subject: str, roles: frozenset[Role]) -> bool:
    """Whether `subject` may decide or unclaim an exception `claimed_by` someone (or nobody)
    has: its claimer may, and so may an overseer taking it over."""
    return claimed_by in (None, subject) or bool(roles & OVERSEERS)


class Priority(StrEnum):
    """How soon a person should look, after what is overdue: the queue's second sort key."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


# A person's decision on an exception: release what it held back, or reject what it was about.
Decision = Literal["release", "reject"]
Note = Annotated[
    str, StringConstraints(min_length=1, max_length=400, strip_whitespace=True), NoControl
]


class ExceptionDecision(BaseModel):
    """The body of `POST /v1/exceptions/{exception_id}/resolve`: the decision and why."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision
    note: Note


class ExceptionItem(BaseModel):
    """One exception as every queue shows it. `overdue`: resolved (or, while open, still
    unresolved now) after `due_at`; `reference`: what it is about beside the order, or null;
    `claimed_by`: who is working on it, or null when nobody is; `escalated_to`: the role an
    overdue exception went up to (its escalation path), or null while it has not."""

    exception_id: str
    order_id: str | None
    type: str
    reason: str
    reference: str | None
    owner_role: str
    priority: Priority
    opened_at: UtcDatetime
    due_at: UtcDatetime
    overdue: bool
    claimed_by: str | None
    claimed_at: UtcDatetime | None
    resolved_at: UtcDatetime | None
    resolution: str | None
    resolution_note: str | None
    resolved_by: str | None
    # Added after the first release, so with defaults: a queue without escalation still fits.
    escalated_to: str | None = None
    escalated_at: UtcDatetime | None = None
