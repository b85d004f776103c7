"""Order service entry point: `uvicorn --factory keel_order.main:create_app`."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from keel_kit.app import create_service_app
from keel_kit.kpi_series import kpi_router
from keel_kit.periodic import PeriodicJob
from keel_kit.replicas import replica_router
from keel_order import (
    checks,
    kpi_report,
    models,  # noqa: F401  (registers the tables)
    partners,
    saga,
    service,
)
from keel_order.api import router
from keel_order.context import OrderContext
from keel_order.handlers import handlers
from keel_order.holds.api import router as holds_router
from keel_order.holds.escalation import escalate_overdue_holds
from keel_order.notifications import service as notifications
from keel_order.notifications.api import router as notifications_router
from keel_order.permissions import PERMISSIONS
from keel_order.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    context = OrderContext.create(
        settings, validation_timeout=timedelta(seconds=settings.validation_timeout_seconds)
    )
    return create_service_app(
        context,
        handlers=handlers,
        routers=[
            router,
            holds_router,
            notifications_router,
            partners.router,
            replica_router(),
            kpi_router(kpi_report.report),
        ],
        permissions=PERMISSIONS,
        migrations=Path(__file__).parent / "migrations",
        description="Orders and lines, sales channels, customer accounts and the order saga.",
        invariants=checks.INVARIANTS,
        periodic=[
            PeriodicJob(name="release-delayed-orders", every=1.0, run=saga.release_delayed),
            PeriodicJob(name="hold-stuck-validations", every=10.0, run=saga.hold_stuck_validations),
            PeriodicJob(name="announce-channels", every=2.0, run=service.announce_channels),
            PeriodicJob(name="escalate-overdue-holds", every=30.0, run=escalate_overdue_holds),
            PeriodicJob(
                name="send-customer-notifications", every=2.0, run=notifications.send_unsent
            ),
        ],
    )
