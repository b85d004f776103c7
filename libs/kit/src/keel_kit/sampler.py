"""The metrics that are state rather than events, read on a timer where the state is kept.

Each replica samples on its own (a gauge must be there whoever Prometheus scrapes): the
outbox's backlog and the age of its oldest row, the consumer group's lag per partition as the
broker has it, and the service's business gauges from its database. The broker's lag is the
one that shows a consumer that stopped: the consumer's own figure is refreshed only when it
applies a batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import select

from keel_contracts.times import as_utc
from keel_kit.broker_lag import BrokerLag
from keel_kit.context import ServiceContext
from keel_kit.metrics import KitMetrics
from keel_kit.tables import OutboxRecord

log = logging.getLogger(__name__)


class MetricSampler:
    def __init__(
        self,
        context: ServiceContext,
        metrics: KitMetrics,
        *,
        topics: Sequence[str],
        every: float,
    ) -> None:
        self.context = context
        self.metrics = metrics
        self.topics = topics
        self.every = every
        settings = context.settings
        self.lag = BrokerLag(settings.kafka_access(), settings.consumer_group)

    async def run(self) -> None:
        """Sample every `every` seconds until cancelled; a failed sample leaves the last values."""
        try:
            while True:
                try:
                    await self.sample()
                except Exception as error:
                    log.warning("metrics sample failed: %r", error)
                await asyncio.sleep(self.every)
        finally:
            await self.lag.close()

    async def sample(self) -> None:
        await self._sample_database()
        for topic in self.topics:
            lags = await self.lag.partition_lags(topic)
            for partition, lag in (lags or {}).items():
                self.metrics.consumer_lag.labels(topic=topic, partition=str(partition)).set(lag)

    async def _sample_database(self) -> None:
        now = self.context.clock()
        async with self.context.db.transaction() as session:
            waiting, oldest = (
                await session.exec(select(func.count(), func.min(OutboxRecord.created_at)))
            ).one()
            age = 0.0 if oldest is None else (now - as_utc(oldest)).total_seconds()
            # The relay sets the backlog too, but only while it leads: a replica that lost the
            # lead would go on showing its last figure.
            self.metrics.outbox_backlog.set(waiting)
            self.metrics.outbox_oldest_age.set(max(0.0, age))
            await self.context.kpis.sample(session, now)
