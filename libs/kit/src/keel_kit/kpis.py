"""A service's business metrics, beside the kit's own: what leaders and operators watch.

Two kinds, measured where each is true. Events (an order accepted, a refund paid) are counted by
the work that makes them, after its transaction commits (`observed.after_commit`), so a rolled
back attempt counts nothing. State (open exceptions, oversold units) is read from the database by
`sample`, on the metrics sampler's timer, so a restarted replica reports it at once and every
replica reports the same value (rules take the max across replicas, never the sum).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlmodel.ext.asyncio.session import AsyncSession


class Kpis(Collector):
    """No business metrics: a service's subclass declares its own, created with `registry=None`
    and listed by `metrics()`; the runtime registers the whole set with the service's registry."""

    def metrics(self) -> Sequence[MetricWrapperBase]:
        return ()

    async def sample(self, session: AsyncSession, now: datetime) -> None:
        """Set the gauges of state from the database (a read-only transaction)."""

    def collect(self) -> Iterator[Metric]:
        for metric in self.metrics():
            yield from metric.collect()
