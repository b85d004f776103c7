"""A running service: database, outbox, relay and broker, started and stopped in order.

Start-up never waits for Kafka: the HTTP side and the outbox work as soon as the database is
migrated, and the broker connects in the background (retrying), so a service started during a
broker outage still accepts work. Start-up does wait for the database, which it cannot work
without: a service started during a database outage comes up when the database is back. Shutdown
stops fetching first, lets the in-flight batch finish, then flushes the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from faststream.kafka import KafkaBroker

from keel_contracts import topics_for
from keel_kit.broker import create_broker, document_publications, subscribe
from keel_kit.consumer import BatchProcessor
from keel_kit.context import ServiceContext
from keel_kit.db import Database
from keel_kit.faults import is_transient
from keel_kit.handlers import Handlers
from keel_kit.metrics import KitMetrics
from keel_kit.migrations import upgrade
from keel_kit.outbox import Outbox
from keel_kit.periodic import PeriodicJob, run_forever
from keel_kit.relay import OutboxRelay
from keel_kit.sampler import MetricSampler
from keel_kit.stalls import StallWatch
from keel_kit.topics import ensure_topics

log = logging.getLogger(__name__)

MIGRATION_RETRY_FIRST_SECONDS = 0.5
MIGRATION_RETRY_MAX_SECONDS = 10.0


class ServiceRuntime:
    def __init__(
        self,
        context: ServiceContext,
        handlers: Handlers,
        migrations: Path,
        periodic: Sequence[PeriodicJob] = (),
    ) -> None:
        settings = context.settings
        # Routers read the context from here on every request; the subscriber and the periodic
        # jobs take it when they start (a test that swaps a port replaces it whole before that).
        self.context = context
        self.settings = settings
        self.handlers = handlers
        self.migrations = migrations
        self.metrics = KitMetrics(settings.service)
        self.metrics.registry.register(context.kpis)  # the service's business metrics
        self.stalls = StallWatch(self.metrics, alarm_after=settings.stall_alarm_seconds)
        self.broker: KafkaBroker | None = None
        self.broker_connected = False
        self._relay = OutboxRelay(
            db=self.db,
            outbox=self.outbox,
            kafka=settings.kafka_access(),
            client_id=f"keel-{settings.service}-relay",
            metrics=self.metrics,
            batch_size=settings.relay_batch_size,
        )
        self._periodic = periodic
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def db(self) -> Database:
        return self.context.db

    @property
    def outbox(self) -> Outbox:
        return self.context.outbox

    async def start(self) -> None:
        await self.migrate()
        self._tasks.append(asyncio.create_task(self._relay.run(), name="outbox-relay"))
        self._tasks.append(asyncio.create_task(self._connect_broker(), name="broker-connect"))
        sampler = MetricSampler(
            self.context,
            self.metrics,
            topics=self.handlers.topics(),
            every=self.settings.metrics_sample_seconds,
        )
        self._tasks.append(asyncio.create_task(sampler.run(), name="metrics-sampler"))
        for job in self._periodic:
            run = run_forever(
                self.db, self.outbox, job, clock=self.context.clock, service=self.context
            )
            self._tasks.append(asyncio.create_task(run, name=job.name))

    async def migrate(self) -> None:
        """Bring the database to the newest schema (service tests stop here, without Kafka).

        A database that is away (restarting, not accepting connections yet) is waited for, so
        a service started during a database outage comes up when the database does instead of
        exiting; any other failure stops the start-up.
        """
        delay = MIGRATION_RETRY_FIRST_SECONDS
        while True:
            try:
                await upgrade(self.migrations, self.db.url)
                return
            except Exception as error:
                if not is_transient(error):
                    raise
                log.warning("database not reachable (%s); migrating again in %.1fs", error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MIGRATION_RETRY_MAX_SECONDS)

    async def stop(self) -> None:
        if self.broker is not None:
            await self.broker.stop()  # stops fetching; waits for the in-flight batch
        self._relay.stop()
        for task in self._tasks:
            if task.get_name() != "outbox-relay":  # the relay stops itself after a final flush
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.context.close()

    async def broker_ready(self) -> bool:
        if self.broker is None or not self.broker_connected:
            return False
        try:
            return bool(await self.broker.ping(timeout=2.0))
        except Exception:
            return False

    def build_broker(self) -> KafkaBroker:
        """A broker with this service's subscriber attached (also used for AsyncAPI docs)."""
        broker = create_broker(self.settings.kafka_access(), f"keel-{self.settings.service}")
        subscribe(
            broker,
            topics=self.handlers.topics(),
            processor=self.processor(),
            metrics=self.metrics,
            stalls=self.stalls,
            batch_size=self.settings.consumer_batch_size,
            max_poll_interval_seconds=self.settings.consumer_max_poll_interval_seconds,
            kill_before_offset_commit=self.settings.fault_kill_before_offset_commit,
        )
        document_publications(broker, self.settings.service)
        return broker

    def processor(self) -> BatchProcessor:
        """How this service applies what it consumes: its subscriber's batches, and a dead
        letter an operator replays."""
        return BatchProcessor(
            consumer=self.settings.consumer_group,
            handlers=self.handlers,
            db=self.db,
            outbox=self.outbox,
            metrics=self.metrics,
            max_attempts=self.settings.consumer_max_attempts,
            backoff_seconds=self.settings.retry_backoff_seconds,
            service=self.context,
        )

    async def _connect_broker(self) -> None:
        backoff = 0.5
        while True:
            broker = self.build_broker()
            try:
                await ensure_topics(self.settings.kafka_access(), topics_for(self.settings.service))
                await broker.start()
            except Exception as error:
                log.warning("broker not reachable (%s); retrying in %.1fs", error, backoff)
                with contextlib.suppress(Exception):
                    await broker.stop()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            self.broker = broker
            self.broker_connected = True
            log.info("connected to Kafka at %s", self.settings.kafka_bootstrap_servers)
            return


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]
