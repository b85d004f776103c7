"""Queries of counts, adjustments and inventory exceptions, and the oldest-first paging they
share with transfers. Read and written straight through the session: they move by HTTP, one
at a time."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory.models import CycleCountLine, StockAdjustment, StockException
from keel_kit import cursors

Row = TypeVar("Row", bound=SQLModel)
Position = tuple[datetime, str]


async def oldest_first(
    session: AsyncSession,
    model: type[Row],
    *,
    at: Any,
    key: Any,
    where: Sequence[Any],
    after: Position | None,
    limit: int,
) -> Sequence[Row]:
    """Rows of `model` meeting `where`, in (at, key) order from after `after`."""
    query = select(model).where(*where)
    if after is not None:
        query = query.where(cursors.after(at, key, after))
    return (await session.exec(query.order_by(at, key).limit(limit))).all()


async def locked(session: AsyncSession, model: type[Row], key: str) -> Row | None:
    """The row of `model` with primary key `key`, locked for update."""
    return await session.get(model, key, with_for_update=True)


async def count_lines(session: AsyncSession, count_ids: Sequence[str]) -> list[CycleCountLine]:
    rows = await session.exec(
        select(CycleCountLine)
        .where(col(CycleCountLine.count_id).in_(count_ids))
        .order_by(col(CycleCountLine.count_id), col(CycleCountLine.sku))
    )
    return list(rows.all())


async def adjustments_of_counts(
    session: AsyncSession, count_ids: Sequence[str]
) -> list[StockAdjustment]:
    rows = await session.exec(
        select(StockAdjustment)
        .where(col(StockAdjustment.count_id).in_(count_ids))
        .order_by(col(StockAdjustment.sku))
    )
    return list(rows.all())


async def open_exceptions_about(session: AsyncSession, reference: str) -> Sequence[StockException]:
    """The open exceptions about one adjustment or transfer, locked to be closed."""
    rows = await session.exec(
        select(StockException)
        .where(StockException.reference == reference, col(StockException.is_open))
        .with_for_update()
    )
    return rows.all()


async def escalation_candidates(
    session: AsyncSession, *, due_by: datetime, top: str, limit: int
) -> Sequence[StockException]:
    """Open exceptions due by `due_by` not yet at the `top` of their escalation path, the
    first due first, locked; those another transaction holds are skipped till the next run."""
    escalated = col(StockException.escalated_to)
    query = (
        select(StockException)
        .where(col(StockException.is_open), col(StockException.due_at) <= due_by)
        .where(escalated.is_(None) | (escalated != top))
        .order_by(col(StockException.due_at), col(StockException.exception_id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.exec(query)).all()
