"""Order service entry point: `uvicorn --factory keel_order.main:create_app`."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.app import create_service_app
from keel_kit.outbox import Outbox
from keel_kit.periodic import PeriodicJob
from keel_kit.replicas import replica_router
from keel_order import (
    checks,
    models,  # noqa: F401  (registers the tables)
    saga,
)
from keel_order.api import router
from keel_order.handlers import handlers
from keel_order.holds_api import router as holds_router
from keel_order.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    timeout = timedelta(seconds=settings.validation_timeout_seconds)

    async def hold_stuck(session: AsyncSession, _outbox: Outbox) -> None:
        await saga.hold_stuck_validations(session, timeout)

    return create_service_app(
        settings,
        handlers=handlers,
        routers=[router, holds_router, replica_router()],
        migrations=Path(__file__).parent / "migrations",
        description="Orders and lines, sales channels, customer accounts and the order saga.",
        invariants=checks.invariants(timeout),
        periodic=[
            PeriodicJob(name="release-delayed-orders", every=1.0, run=saga.release_delayed),
            PeriodicJob(name="hold-stuck-validations", every=10.0, run=hold_stuck),
        ],
    )
