"""Finance's business metrics: refunds paid, counted and summed per currency."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from prometheus_client import Counter
from prometheus_client.metrics import MetricWrapperBase
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit import observed
from keel_kit.kpis import Kpis


class FinanceKpis(Kpis):
    def __init__(self) -> None:
        self.refunds_paid = Counter(
            "keel_refunds_paid", "Refunds paid out", ["currency"], registry=None
        )
        self.refunded_amount = Counter(
            "keel_refunds_paid_amount",
            "Money refunded, in the currency's units (a float: for watching, not for the books)",
            ["currency"],
            registry=None,
        )

    def metrics(self) -> Sequence[MetricWrapperBase]:
        return (self.refunds_paid, self.refunded_amount)

    def refund_paid(self, session: AsyncSession, amount: Decimal, currency: str) -> None:
        def count() -> None:
            self.refunds_paid.labels(currency=currency).inc()
            self.refunded_amount.labels(currency=currency).inc(float(amount))

        observed.after_commit(session, count)
