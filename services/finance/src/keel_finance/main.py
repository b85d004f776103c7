"""Finance service entry point: `uvicorn --factory keel_finance.main:create_app`."""

from pathlib import Path

from fastapi import FastAPI

from keel_finance import models  # noqa: F401  (registers the tables)
from keel_finance.api import router
from keel_finance.handlers import handlers
from keel_finance.settings import Settings
from keel_kit.app import create_service_app
from keel_kit.replicas import replica_router


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings or Settings(),
        handlers=handlers,
        routers=[router, replica_router()],
        migrations=Path(__file__).parent / "migrations",
        description="The double-entry journal, valuation and payments.",
    )
