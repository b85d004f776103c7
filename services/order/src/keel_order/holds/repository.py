"""The exception queue's queries (kept apart from keel_order.repository, which the saga's hot path
uses)."""

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit import cursors
from keel_order.models import OrderHold

# OrderHold.id is a 32-bit integer on PostgreSQL: a cursor naming a bigger one is not ours.
MAX_HOLD_ID = 2**31 - 1


async def exception_queue(
    session: AsyncSession,
    *,
    resolved: bool,
    owner_role: str | None,
    hold_type: str | None,
    reference: str | None,
    escalated_to: str | None = None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> Sequence[OrderHold]:
    """Holds by due date, oldest first, from after the (due_at, id) position `after`.

    (An order that ends closes its open holds, so every open hold still asks for a decision.)
    """
    resolved_at = col(OrderHold.resolved_at)
    query = select(OrderHold).where(resolved_at.is_not(None) if resolved else resolved_at.is_(None))
    if owner_role is not None:
        query = query.where(OrderHold.owner_role == owner_role)
    if hold_type is not None:
        query = query.where(OrderHold.type == hold_type)
    if reference is not None:
        query = query.where(OrderHold.reference == reference)
    if escalated_to is not None:
        query = query.where(OrderHold.escalated_to == escalated_to)
    if after is not None:
        query = query.where(cursors.after(col(OrderHold.due_at), col(OrderHold.id), after))
    query = query.order_by(col(OrderHold.due_at), col(OrderHold.id)).limit(limit)
    return (await session.exec(query)).all()


async def escalation_candidates(
    session: AsyncSession, *, due_by: datetime, top: str, limit: int
) -> Sequence[OrderHold]:
    """Open holds due by `due_by` that have not reached the `top` of their escalation path, the
    oldest due first, locked; those another transaction holds (being decided, or escalated by
    another replica) are skipped until the next run."""
    escalated_to = col(OrderHold.escalated_to)
    query = (
        select(OrderHold)
        .where(col(OrderHold.resolved_at).is_(None), col(OrderHold.due_at) <= due_by)
        .where(escalated_to.is_(None) | (escalated_to != top))
        .order_by(col(OrderHold.due_at), col(OrderHold.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.exec(query)).all()
