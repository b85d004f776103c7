"""Inventory service entry point: `uvicorn --factory keel_inventory.main:create_app`."""

from pathlib import Path

from fastapi import FastAPI

from keel_inventory import (  # noqa: F401  (models and lot_models register the tables)
    availability_feed,
    kpi_report,
    lot_models,
    models,
    stock_exceptions,
)
from keel_inventory.api import router
from keel_inventory.channel_api import router as channel_router
from keel_inventory.checks import INVARIANTS
from keel_inventory.context import InventoryContext
from keel_inventory.count_api import router as count_router
from keel_inventory.handlers import handlers
from keel_inventory.lot_api import router as lot_router
from keel_inventory.permissions import PERMISSIONS
from keel_inventory.reservations import expire_reservations
from keel_inventory.settings import Settings
from keel_inventory.transfer_api import router as transfer_router
from keel_kit.app import create_service_app
from keel_kit.kpi_series import kpi_router
from keel_kit.periodic import PeriodicJob


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        InventoryContext.create(settings),
        handlers=handlers,
        routers=[
            router,
            channel_router,
            transfer_router,
            count_router,
            lot_router,
            kpi_router(kpi_report.report),
        ],
        permissions=PERMISSIONS,
        migrations=Path(__file__).parent / "migrations",
        description="Item master, locations, the stock movement ledger, balances and reservations.",
        invariants=INVARIANTS,
        periodic=[
            PeriodicJob(
                name="expire-reservations",
                every=settings.reservation_expiry_every_seconds,
                run=expire_reservations,
            ),
            PeriodicJob(
                name="publish-availability",
                every=settings.availability_feed_every_seconds,
                run=availability_feed.publish_changed,
            ),
            PeriodicJob(
                name="escalate-overdue-exceptions",
                every=30.0,
                run=stock_exceptions.escalate_overdue,
            ),
            PeriodicJob(
                name="record-oversell-check",
                every=settings.oversell_check_every_seconds,
                run=kpi_report.record_oversell_check,
            ),
        ],
    )
