"""Returns with their lines, receipts, grades and refunds, the return policies, and the
summary's counts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, or_
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit import cursors
from keel_returns.domain import RefundStatus
from keel_returns.models import (
    ChannelReturnPolicy,
    Refund,
    ReturnAuthorization,
    ReturnGrade,
    ReturnLine,
    ReturnReceiptLine,
    SkuReturnPolicy,
)


async def sku_policies(session: AsyncSession, skus: set[str]) -> Sequence[SkuReturnPolicy]:
    query = select(SkuReturnPolicy).where(col(SkuReturnPolicy.sku).in_(skus))
    return (await session.exec(query)).all()


async def get_sku_policy(session: AsyncSession, sku: str) -> SkuReturnPolicy | None:
    return await session.get(SkuReturnPolicy, sku)


async def get_channel_policy(session: AsyncSession, channel: str) -> ChannelReturnPolicy | None:
    return await session.get(ChannelReturnPolicy, channel)


async def get_return(
    session: AsyncSession, return_id: str, *, fresh: bool = False
) -> ReturnAuthorization | None:
    """The return; `fresh` reads it again, for use after its order's row is locked."""
    options = {"populate_existing": True} if fresh else {}
    return await session.get(ReturnAuthorization, return_id, execution_options=options)


async def return_lines(session: AsyncSession, return_id: str) -> Sequence[ReturnLine]:
    return await lines_of_returns(session, [return_id])


async def lines_of_returns(
    session: AsyncSession, return_ids: Collection[str]
) -> Sequence[ReturnLine]:
    query = (
        select(ReturnLine)
        .where(col(ReturnLine.return_id).in_(return_ids))
        .order_by(col(ReturnLine.return_id), col(ReturnLine.line_no))
    )
    return (await session.exec(query)).all()


async def receipt_lines(session: AsyncSession, return_id: str) -> Sequence[ReturnReceiptLine]:
    return await receipt_lines_of_returns(session, [return_id])


async def receipt_lines_of_returns(
    session: AsyncSession, return_ids: Collection[str]
) -> Sequence[ReturnReceiptLine]:
    query = (
        select(ReturnReceiptLine)
        .where(col(ReturnReceiptLine.return_id).in_(return_ids))
        .order_by(col(ReturnReceiptLine.return_id), col(ReturnReceiptLine.sku))
    )
    return (await session.exec(query)).all()


async def grades_of_returns(
    session: AsyncSession, return_ids: Collection[str]
) -> Sequence[ReturnGrade]:
    query = (
        select(ReturnGrade)
        .where(col(ReturnGrade.return_id).in_(return_ids))
        .order_by(col(ReturnGrade.return_id), col(ReturnGrade.sku), col(ReturnGrade.grade))
    )
    return (await session.exec(query)).all()


async def graded_units_of_order(session: AsyncSession, order_id: str) -> dict[str, int]:
    """Units per SKU graded on all the order's returns (what has come back for good)."""
    query = (
        select(ReturnGrade.sku, func.sum(ReturnGrade.quantity))
        .join(ReturnAuthorization, col(ReturnAuthorization.return_id) == ReturnGrade.return_id)
        .where(ReturnAuthorization.order_id == order_id)
        .group_by(col(ReturnGrade.sku))
    )
    return {sku: int(total) for sku, total in (await session.exec(query)).all()}


async def refunds_of_returns(
    session: AsyncSession, return_ids: Collection[str]
) -> Sequence[Refund]:
    query = (
        select(Refund)
        .where(col(Refund.return_id).in_(return_ids))
        .order_by(col(Refund.return_id), col(Refund.created_at))
    )
    return (await session.exec(query)).all()


async def get_refund(
    session: AsyncSession, refund_id: str, *, fresh: bool = False
) -> Refund | None:
    """The refund; `fresh` reads it again, for use after its order's row is locked."""
    options = {"populate_existing": True} if fresh else {}
    return await session.get(Refund, refund_id, execution_options=options)


# --- refunds paid ---


@dataclass
class ReturnRefunds:
    """A return with every refund of it, by refund id: what settling one refund needs."""

    authorization: ReturnAuthorization
    refunds: dict[str, Refund]


# session.info: the returns this transaction has loaded with their refunds, by refund id.
_REFUNDS = "keel_returns.refunds"


async def load_refunds(session: AsyncSession, refund_ids: set[str]) -> None:
    """Load the returns of these refunds, each with all its refunds, in two queries.

    Read afresh (`populate_existing`): the caller locks the orders first, and a rolled-back
    savepoint may have left the session's copies stale. Unknown refund ids are left out.
    """
    if not refund_ids:
        return
    loaded: dict[str, ReturnRefunds] = session.info.setdefault(_REFUNDS, {})
    return_ids = select(Refund.return_id).where(col(Refund.refund_id).in_(refund_ids))
    returns = await session.exec(
        select(ReturnAuthorization)
        .where(col(ReturnAuthorization.return_id).in_(return_ids))
        .execution_options(populate_existing=True)
    )
    found = {r.return_id: ReturnRefunds(r, {}) for r in returns.all()}
    refunds = await session.exec(
        select(Refund)
        .where(col(Refund.return_id).in_(return_ids))
        .order_by(col(Refund.created_at))
        .execution_options(populate_existing=True)
    )
    for refund in refunds.all():
        facts = found[refund.return_id]
        facts.refunds[refund.refund_id] = refund
        loaded[refund.refund_id] = facts


async def return_refunds(session: AsyncSession, refund_id: str) -> ReturnRefunds | None:
    """The refund's return with all its refunds, from memory once loaded here; None if unknown."""
    loaded: dict[str, ReturnRefunds] = session.info.get(_REFUNDS, {})
    if refund_id not in loaded:
        await load_refunds(session, {refund_id})
    found: ReturnRefunds | None = session.info.get(_REFUNDS, {}).get(refund_id)
    return found


# --- summary ---


@dataclass(frozen=True)
class RefundTotals:
    """Refunds of one status and currency."""

    status: str
    currency: str
    count: int
    short: int
    requested: Decimal
    refunded: Decimal
    shortfall: Decimal


@dataclass(frozen=True)
class RefundedReturn:
    authorized_at: datetime
    received_at: datetime | None
    refunded_at: datetime


async def returns_by_status(session: AsyncSession, since: datetime | None) -> dict[str, int]:
    """Returns authorized since `since` (all without it), counted by their status now."""
    query = select(ReturnAuthorization.status, func.count()).group_by(
        col(ReturnAuthorization.status)
    )
    if since is not None:
        query = query.where(col(ReturnAuthorization.created_at) >= since)
    return {status: int(n) for status, n in (await session.exec(query)).all()}


async def units_by_grade(session: AsyncSession, since: datetime | None) -> dict[str, int]:
    """Units graded at inspections since `since`, by grade."""
    query = (
        select(ReturnGrade.grade, func.sum(ReturnGrade.quantity))
        .join(ReturnAuthorization, col(ReturnAuthorization.return_id) == ReturnGrade.return_id)
        .group_by(col(ReturnGrade.grade))
    )
    if since is not None:
        query = query.where(col(ReturnAuthorization.inspected_at) >= since)
    return {grade: int(n) for grade, n in (await session.exec(query)).all()}


async def refund_totals(session: AsyncSession, since: datetime | None) -> list[RefundTotals]:
    """Refunds paid since `since`, and every refund waiting for approval, per currency."""
    paid = col(Refund.status) == RefundStatus.REFUNDED
    if since is not None:
        paid = paid & (col(Refund.refunded_at) >= since)
    query = (
        core_select(  # five columns and more are beyond sqlmodel's select
            col(Refund.status),
            col(Refund.currency),
            func.count(),
            func.sum(case((col(Refund.shortfall) > 0, 1), else_=0)),
            func.sum(col(Refund.amount)),
            func.sum(func.coalesce(col(Refund.refunded_amount), 0)),
            func.sum(func.coalesce(col(Refund.shortfall), 0)),
        )
        .where(or_(paid, col(Refund.status) == RefundStatus.PENDING_APPROVAL))
        .group_by(col(Refund.status), col(Refund.currency))
        .order_by(col(Refund.currency))
    )
    return [
        RefundTotals(
            status=status,
            currency=currency,
            count=int(count),
            short=int(short or 0),
            requested=Decimal(str(requested or 0)),
            refunded=Decimal(str(refunded or 0)),
            shortfall=Decimal(str(shortfall or 0)),
        )
        for status, currency, count, short, requested, refunded, shortfall in (
            await (await session.connection()).execute(query)
        ).all()
    ]


async def refunded_returns(session: AsyncSession, since: datetime | None) -> list[RefundedReturn]:
    """The step times of every return whose refunds were all paid since `since`."""
    query = select(
        ReturnAuthorization.created_at,
        ReturnAuthorization.received_at,
        ReturnAuthorization.refunded_at,
    ).where(col(ReturnAuthorization.refunded_at).is_not(None))
    if since is not None:
        query = query.where(col(ReturnAuthorization.refunded_at) >= since)
    return [
        RefundedReturn(authorized, received, refunded)
        for authorized, received, refunded in (await session.exec(query)).all()
        if refunded is not None
    ]


async def refunds_by_status(
    session: AsyncSession, *, status: str, after: tuple[datetime, str] | None, limit: int
) -> Sequence[Refund]:
    """Refunds in one status, the oldest first, from after the (created_at, refund id)
    position `after`."""
    query = select(Refund).where(Refund.status == status)
    if after is not None:
        query = query.where(cursors.after(col(Refund.created_at), col(Refund.refund_id), after))
    query = query.order_by(col(Refund.created_at), col(Refund.refund_id)).limit(limit)
    return (await session.exec(query)).all()


async def returns_in(
    session: AsyncSession,
    *,
    status: str,
    location_id: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Sequence[ReturnAuthorization]:
    """Returns in one status (received at one location, if given), the oldest first, from
    after the (created_at, return id) position `after`."""
    query = select(ReturnAuthorization).where(ReturnAuthorization.status == status)
    if location_id is not None:
        query = query.where(ReturnAuthorization.location_id == location_id)
    if after is not None:
        query = query.where(
            cursors.after(
                col(ReturnAuthorization.created_at), col(ReturnAuthorization.return_id), after
            )
        )
    order = (col(ReturnAuthorization.created_at), col(ReturnAuthorization.return_id))
    return (await session.exec(query.order_by(*order).limit(limit))).all()
