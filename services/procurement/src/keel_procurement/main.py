"""Procurement service entry point: `uvicorn --factory keel_procurement.main:create_app`."""

from pathlib import Path

from fastapi import FastAPI

from keel_kit.app import create_service_app
from keel_kit.replicas import replica_router
from keel_procurement import models  # noqa: F401  (registers the tables)
from keel_procurement.api import build_router
from keel_procurement.handlers import handlers
from keel_procurement.purchase_orders import Rules
from keel_procurement.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    rules = Rules(
        approval_threshold=settings.approval_threshold,
        over_receipt_tolerance=settings.over_receipt_tolerance,
    )
    return create_service_app(
        settings,
        handlers=handlers,
        routers=[build_router(rules), replica_router()],
        migrations=Path(__file__).parent / "migrations",
        description="Suppliers, replenishment, purchase orders and receipts.",
    )
