"""Procurement service entry point: `uvicorn --factory keel_procurement.main:create_app`."""

from pathlib import Path

from fastapi import FastAPI

from keel_kit.app import create_service_app
from keel_kit.kpi_series import kpi_router
from keel_kit.periodic import PeriodicJob
from keel_kit.replicas import replica_router
from keel_procurement import (
    kpi_report,
    models,  # noqa: F401  (registers the tables)
    replenishment,
)
from keel_procurement.api import router
from keel_procurement.context import Planning, ProcurementContext, Rules
from keel_procurement.handlers import handlers
from keel_procurement.permissions import PERMISSIONS
from keel_procurement.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    context = ProcurementContext.create(
        settings, rules=Rules.of(settings), planning=Planning.of(settings)
    )
    return create_service_app(
        context,
        handlers=handlers,
        routers=[router, replica_router(), kpi_router(kpi_report.report)],
        permissions=PERMISSIONS,
        migrations=Path(__file__).parent / "migrations",
        description="Suppliers, demand, replenishment, purchase orders and receipts.",
        periodic=[
            PeriodicJob(
                name="replenishment-run",
                every=settings.replenishment_every_seconds,
                run=replenishment.scheduled_run,
            )
        ],
    )
