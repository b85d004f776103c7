"""Inventory's business metrics: units oversold (must stay 0) and the backorder queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from prometheus_client import Counter, Gauge
from prometheus_client.metrics import MetricWrapperBase
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory import repository
from keel_inventory.models import Backorder, BackorderLine
from keel_kit import observed
from keel_kit.kpis import Kpis


class InventoryKpis(Kpis):
    def __init__(self) -> None:
        self.oversold_units = Gauge(
            "keel_oversold_units",
            "Units reserved beyond sellable, over every location (an invariant: 0)",
            registry=None,
        )
        self.backorders_open = Gauge(
            "keel_backorders_open", "Orders waiting in the backorder queue", registry=None
        )
        self.backorder_units_open = Gauge(
            "keel_backorder_units_open", "Units the backorder queue waits for", registry=None
        )
        self.exceptions_escalated = Counter(
            "keel_exceptions_escalated",
            "Inventory exceptions that went up their escalation path, by the role they went to",
            ["type", "to"],
            registry=None,
        )

    def metrics(self) -> Sequence[MetricWrapperBase]:
        return (
            self.oversold_units,
            self.backorders_open,
            self.backorder_units_open,
            self.exceptions_escalated,
        )

    def exception_escalated(self, session: AsyncSession, kind: str, to: str) -> None:
        counter = self.exceptions_escalated.labels(type=kind, to=to)
        observed.after_commit(session, counter.inc)

    async def sample(self, session: AsyncSession, now: datetime) -> None:
        _locations, units = await repository.count_oversold(session)
        self.oversold_units.set(units)
        waiting = await session.scalar(select(func.count()).select_from(Backorder))
        queued = await session.scalar(select(func.coalesce(func.sum(BackorderLine.quantity), 0)))
        self.backorders_open.set(waiting or 0)
        self.backorder_units_open.set(queued or 0)
