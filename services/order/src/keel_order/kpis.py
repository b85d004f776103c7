"""Order's business metrics: orders accepted per channel, the fill rate, how long orders take to
ship, and the exception queues (open and overdue per type) that people work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase
from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts.times import as_utc
from keel_kit import observed, telemetry
from keel_kit.kpis import Kpis
from keel_order.domain import HoldType
from keel_order.models import OrderHold

# From a straight-through order (seconds) to one that waited for a supplier (weeks).
CYCLE_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400, 28 * 86400)


class OrderKpis(Kpis):
    def __init__(self) -> None:
        self.accepted = Counter(
            "keel_orders_accepted", "Orders accepted at intake", ["channel"], registry=None
        )
        self.cycle = Histogram(
            "keel_order_cycle_seconds",
            "From an order's acceptance to its last unit shipped",
            buckets=CYCLE_BUCKETS,
            registry=None,
        )
        self.units_requested = Counter(
            "keel_reservation_units_requested",
            "Units of orders given their first stock answer (the fill rate's denominator)",
            registry=None,
        )
        self.units_filled = Counter(
            "keel_reservation_units_filled",
            "Units reserved at the first asking, neither backordered nor refused",
            registry=None,
        )
        self.exceptions_open = Gauge(
            "keel_exceptions_open", "Holds not yet resolved", ["type"], registry=None
        )
        self.exceptions_overdue = Gauge(
            "keel_exceptions_overdue",
            "Holds not yet resolved whose SLA clock ran out",
            ["type"],
            registry=None,
        )
        self.exceptions_escalated = Counter(
            "keel_exceptions_escalated",
            "Holds that went up their escalation path, by the role they went to",
            ["type", "to"],
            registry=None,
        )

    def metrics(self) -> Sequence[MetricWrapperBase]:
        return (
            self.accepted,
            self.cycle,
            self.units_requested,
            self.units_filled,
            self.exceptions_open,
            self.exceptions_overdue,
            self.exceptions_escalated,
        )

    def order_accepted(self, session: AsyncSession, channel: str) -> None:
        observed.after_commit(session, self.accepted.labels(channel=channel).inc)

    def first_stock_answer(self, session: AsyncSession, units: int, *, reserved: bool) -> None:
        def count() -> None:
            self.units_requested.inc(units)
            if reserved:
                self.units_filled.inc(units)

        observed.after_commit(session, count)

    def exception_escalated(self, session: AsyncSession, hold_type: str, to: str) -> None:
        counter = self.exceptions_escalated.labels(type=hold_type, to=to)
        observed.after_commit(session, counter.inc)

    def order_shipped(self, session: AsyncSession, accepted_at: datetime, now: datetime) -> None:
        seconds = (now - as_utc(accepted_at)).total_seconds()
        exemplar = telemetry.exemplar()  # the order's trace, which the shipment event continues
        observed.after_commit(session, lambda: self.cycle.observe(seconds, exemplar=exemplar))

    async def sample(self, session: AsyncSession, now: datetime) -> None:
        overdue = case((col(OrderHold.due_at) < now, 1), else_=0)
        rows = await session.exec(
            select(OrderHold.type, func.count(), func.sum(overdue))
            .where(col(OrderHold.resolved_at).is_(None))
            .group_by(OrderHold.type)
        )
        counts = {type_: (opened, late or 0) for type_, opened, late in rows.all()}
        for hold_type in HoldType:  # a queue emptied reads 0, not its last count
            opened, late = counts.get(hold_type.value, (0, 0))
            self.exceptions_open.labels(type=hold_type.value).set(opened)
            self.exceptions_overdue.labels(type=hold_type.value).set(late)
