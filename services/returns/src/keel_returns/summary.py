"""The returns summary for operations, finance and the demo report: a handful of grouped
queries, whatever the number of returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from keel_contracts import money
from keel_contracts.times import as_utc
from keel_contracts.values import Money
from keel_kit.stats import percentile
from keel_returns import repository
from keel_returns.context import Work
from keel_returns.domain import Grade, RefundStatus, ReturnStatus
from keel_returns.repository import RefundedReturn, RefundTotals
from keel_returns.schemas import (
    Percentiles,
    ProcessingTimes,
    RefundsSummary,
    ReturnsCount,
    ReturnsSummary,
)


async def summarize(*, uow: Work, since: datetime | None) -> ReturnsSummary:
    """Returns authorized since `since` by status now, units graded since then by grade, refunds
    paid since then (and their shortfall), refunds waiting for approval now, and the p50 / p95
    processing times of the returns whose refunds were all paid since then. Without `since`,
    over everything."""
    session = uow.session
    since = None if since is None else as_utc(since)
    statuses = await repository.returns_by_status(session, since)
    grades = await repository.units_by_grade(session, since)
    totals = await repository.refund_totals(session, since)
    refunded = await repository.refunded_returns(session, since)
    return ReturnsSummary(
        since=since,
        returns=ReturnsCount(
            total=sum(statuses.values()),
            by_status={s.value: statuses.get(s.value, 0) for s in ReturnStatus},
        ),
        units_by_grade={g.value: grades.get(g.value, 0) for g in Grade},
        refunds=_refunds(totals),
        processing=_processing(refunded),
    )


def _refunds(totals: list[RefundTotals]) -> RefundsSummary:
    paid = [t for t in totals if t.status == RefundStatus.REFUNDED]
    waiting = [t for t in totals if t.status == RefundStatus.PENDING_APPROVAL]

    def per_currency(
        rows: list[RefundTotals], amount: Callable[[RefundTotals], Decimal]
    ) -> list[Money]:
        # Sums read back from the database: SQLite's are floats, with noise below the cent.
        return [money.shown_money(money.ledger_total(amount(t)), t.currency) for t in rows]

    return RefundsSummary(
        issued=sum(t.count for t in paid),
        short=sum(t.short for t in paid),
        requested=per_currency(paid, lambda t: t.requested),
        refunded=per_currency(paid, lambda t: t.refunded),
        shortfall=per_currency(paid, lambda t: t.shortfall),
        awaiting_approval=sum(t.count for t in waiting),
        awaiting_approval_amount=per_currency(waiting, lambda t: t.requested),
    )


def _processing(returns: Sequence[RefundedReturn]) -> ProcessingTimes:
    def seconds(start: datetime | None, end: datetime) -> float | None:
        if start is None:
            return None
        return (as_utc(end) - as_utc(start)).total_seconds()

    def percentiles(values: list[float | None]) -> Percentiles:
        known = [v for v in values if v is not None]
        p50, p95 = (percentile(known, share) for share in (0.50, 0.95))
        return Percentiles(
            p50=None if p50 is None else round(p50, 3), p95=None if p95 is None else round(p95, 3)
        )

    return ProcessingTimes(
        returns=len(returns),
        receipt_to_refund_seconds=percentiles(
            [seconds(r.received_at, r.refunded_at) for r in returns]
        ),
        authorization_to_refund_seconds=percentiles(
            [seconds(r.authorized_at, r.refunded_at) for r in returns]
        ),
    )
