"""Work a service does on a clock rather than on a message, once per period across replicas.

A job's period is its interval counted from the Unix epoch (a daily job's period is a UTC day),
so every replica computes the same one. Each replica wakes at period boundaries and tries to
claim the period in `job_schedule`, in the same transaction as the job's work: the row is locked
(skipping it when another replica holds it), the job runs, and the period is recorded on commit.
So a job runs at start when its period has not run yet, on one replica at a time, and never
twice for one period; a failed run rolls back its claim and is tried again shortly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from keel_kit import telemetry
from keel_kit.context import Clock, UnitOfWork
from keel_kit.db import Database, upsert_insert
from keel_kit.outbox import Outbox
from keel_kit.tables import JobSchedule

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_SECONDS = 30.0


@dataclass(frozen=True)
class PeriodicJob:
    """A job run once per `every` seconds; its work is done in the unit of work it is given."""

    name: str
    every: float
    run: Callable[[UnitOfWork[Any]], Awaitable[None]]

    def period(self, now: datetime) -> int:
        return int(now.timestamp() // self.every)

    def seconds_to_next_period(self, now: datetime) -> float:
        return self.every - now.timestamp() % self.every


async def run_if_due(
    db: Database, outbox: Outbox, job: PeriodicJob, *, now: datetime, service: object
) -> bool:
    """Run `job` for the period of `now` unless that period ran, or runs on another replica.

    Returns whether it ran (and committed). A failure propagates with the claim rolled back.
    """
    period = job.period(now)
    async with db.transaction() as session:
        await session.exec(
            upsert_insert(session, JobSchedule.__table__)
            .values(name=job.name, last_period=period - 1)
            .on_conflict_do_nothing()
        )
        last = await session.scalar(
            select(JobSchedule.last_period)
            .where(JobSchedule.name == job.name)
            .with_for_update(skip_locked=True)
        )
        if last is None or last >= period:
            return False  # being run by another replica, or already run for this period
        with telemetry.job_run(job.name):
            await job.run(UnitOfWork(session, outbox, service))
        await session.exec(
            update(JobSchedule)
            .where(JobSchedule.name == job.name)
            .values(last_period=period, last_run_at=now)
        )
    return True


async def run_forever(
    db: Database, outbox: Outbox, job: PeriodicJob, *, clock: Clock, service: object
) -> None:
    """Try each period of `job` as it begins, until cancelled."""
    while True:
        try:
            await run_if_due(db, outbox, job, now=clock(), service=service)
            delay = job.seconds_to_next_period(clock())
        except Exception:
            delay = min(job.every, RETRY_AFTER_FAILURE_SECONDS)
            log.exception("periodic job %s failed; trying again in %.0fs", job.name, delay)
        await asyncio.sleep(delay)
