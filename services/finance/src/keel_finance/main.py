"""Finance service entry point: `uvicorn --factory keel_finance.main:create_app`."""

from pathlib import Path

import httpx
from fastapi import FastAPI

from keel_finance import (
    models,  # noqa: F401  (registers the tables)
    payments,
)
from keel_finance.api import router
from keel_finance.checks import INVARIANTS
from keel_finance.context import FinanceContext
from keel_finance.handlers import handlers
from keel_finance.inventory_client import InventoryClient
from keel_finance.margins import service as margins
from keel_finance.payments import PaymentProvider
from keel_finance.permissions import PERMISSIONS
from keel_finance.settings import Settings
from keel_kit.app import create_service_app
from keel_kit.kpi_series import kpi_router
from keel_kit.replicas import replica_router
from keel_kit.signing import ServiceCredentials


def create_app(
    settings: Settings | None = None,
    *,
    payment_provider: PaymentProvider | None = None,
    inventory_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The finance app; `payment_provider` overrides the one the settings choose, and
    `inventory_transport` answers for inventory's HTTP API (tests)."""
    settings = settings or Settings()
    context = FinanceContext.create(
        settings,
        payments=payment_provider or payments.provider_for(settings),
        inventory=InventoryClient(
            settings.inventory_url,
            credentials=ServiceCredentials.of(settings).authorization,
            transport=inventory_transport,
        ),
    )
    return create_service_app(
        context,
        handlers=handlers,
        routers=[router, replica_router(), kpi_router(margins.report)],
        permissions=PERMISSIONS,
        migrations=Path(__file__).parent / "migrations",
        description="The double-entry journal, valuation and payments.",
        invariants=INVARIANTS,
    )
