"""What a service's code is given to work with: one typed context, built once at start-up.

Each service subclasses `ServiceContext` with its own settings and ports (a payment provider, an
HTTP client of another service, rules read from its settings) and hands it to
`create_service_app`. The kit's runtime then carries it everywhere work is done: routers get it
through the service's dependency (`Annotated[FinanceContext, Depends(service_context)]`),
message handlers as `ctx.service`, periodic jobs as `work.service`. Nothing is wired through
module globals or process-wide slots, so two apps in one process (tests do that) never share
state, and a test swaps a port by building the context with another one.

Use cases take a `UnitOfWork` (`uow`): the open transaction, the outbox and the context, so a
use case reaches its ports without each being passed down by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Self, TypeVar

from fastapi import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.catchup import ReplicaCatchup
from keel_kit.db import Database
from keel_kit.kpis import Kpis
from keel_kit.outbox import Outbox
from keel_kit.settings import ServiceSettings

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


C = TypeVar("C")


@dataclass(frozen=True)
class UnitOfWork(Generic[C]):
    """One transaction's worth of work: the open session, the outbox its messages are staged
    in, and the service's context. Periodic jobs get this; message handlers get it with the
    message's envelope (`MessageContext`)."""

    session: AsyncSession
    outbox: Outbox
    service: C


@dataclass(frozen=True, kw_only=True)
class ServiceContext:
    """The kit's part of every service's context: settings, database, the outbox its messages
    are staged in, replica catch-up, clock, business metrics."""

    settings: ServiceSettings
    db: Database
    outbox: Outbox
    catchup: ReplicaCatchup
    clock: Clock = utc_now
    kpis: Kpis = field(default_factory=Kpis)  # the service's business metrics

    @classmethod
    def create(cls, settings: ServiceSettings, **ports: Any) -> Self:
        """The context for `settings`: its database and outbox, catch-up asked of its broker,
        the real clock, and the service's own `ports` (the subclass's further fields)."""
        return cls(
            settings=settings,
            db=Database(settings.resolved_database_url()),
            outbox=Outbox(settings.service),
            catchup=ReplicaCatchup.on_broker(settings.kafka_access(), settings.consumer_group),
            **ports,
        )

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork[Self]]:
        """One transaction for a use case: committed when the block ends, rolled back if it
        raises. Routers open it; message handlers and periodic jobs are given theirs."""
        async with self.db.transaction() as session:
            yield UnitOfWork(session, self.outbox, self)

    async def close(self) -> None:
        await self.catchup.close()
        await self.db.dispose()


def service_context(request: Request) -> Any:
    """The running app's service context; each service types it in its own dependency."""
    return request.app.state.runtime.context
