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
    if after is not None:
        query = query.where(cursors.after(col(OrderHold.due_at), col(OrderHold.id), after))
    query = query.order_by(col(OrderHold.due_at), col(OrderHold.id)).limit(limit)
    return (await session.exec(query)).all()
