"""Inventory service entry point: `uvicorn --factory keel_inventory.main:create_app`."""

from pathlib import Path

from fastapi import FastAPI

from keel_inventory import models  # noqa: F401  (registers the tables)
from keel_inventory.api import router
from keel_inventory.handlers import handlers
from keel_inventory.settings import Settings
from keel_kit.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings or Settings(),
        handlers=handlers,
        routers=[router],
        migrations=Path(__file__).parent / "migrations",
        description="Item master, locations, the stock movement ledger and balances.",
    )
