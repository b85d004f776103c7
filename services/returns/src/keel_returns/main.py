"""Returns service entry point: `uvicorn --factory keel_returns.main:create_app`."""

from pathlib import Path

from fastapi import FastAPI

from keel_kit.app import create_service_app
from keel_kit.kpi_series import kpi_router
from keel_kit.replicas import replica_router
from keel_returns import kpi_report, models  # noqa: F401  (registers the tables)
from keel_returns.api import router
from keel_returns.context import ReturnsContext
from keel_returns.handlers import handlers
from keel_returns.permissions import PERMISSIONS
from keel_returns.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        ReturnsContext.create(settings or Settings()),
        handlers=handlers,
        routers=[router, replica_router(), kpi_router(kpi_report.report)],
        permissions=PERMISSIONS,
        migrations=Path(__file__).parent / "migrations",
        description="Return authorizations, inspections, grades and dispositions.",
    )
