"""Fulfillment service entry point: `uvicorn --factory keel_fulfillment.main:create_app`."""

from pathlib import Path

from fastapi import FastAPI

from keel_fulfillment import (
    models,  # noqa: F401  (registers the tables)
    partners,
)
from keel_fulfillment.api import router
from keel_fulfillment.context import FulfillmentContext
from keel_fulfillment.handlers import handlers
from keel_fulfillment.permissions import PERMISSIONS
from keel_fulfillment.settings import Settings
from keel_kit.app import create_service_app
from keel_kit.replicas import replica_router


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        FulfillmentContext.create(settings or Settings()),
        handlers=handlers,
        routers=[router, partners.router, replica_router()],
        permissions=PERMISSIONS,
        migrations=Path(__file__).parent / "migrations",
        description="Warehouses, shipment plans, pick tasks, carriers and tracking.",
    )
