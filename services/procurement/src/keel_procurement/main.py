"""Procurement service entry point: `uvicorn --factory keel_procurement.main:create_app`."""

from pathlib import Path

from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.app import create_service_app
from keel_kit.outbox import Outbox
from keel_kit.periodic import PeriodicJob
from keel_kit.replicas import replica_router
from keel_procurement import (
    models,  # noqa: F401  (registers the tables)
    replenishment,
)
from keel_procurement.api import build_router
from keel_procurement.handlers import build_handlers
from keel_procurement.purchase_orders import Rules
from keel_procurement.replenishment import Planning
from keel_procurement.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    rules = Rules(
        approval_threshold=settings.approval_threshold,
        over_receipt_tolerance=settings.over_receipt_tolerance,
        under_receipt_tolerance=settings.under_receipt_tolerance,
    )
    planning = Planning(alpha=settings.demand_alpha, review_days=settings.review_days)

    async def replenish(session: AsyncSession, outbox: Outbox) -> None:
        await replenishment.run(session=session, outbox=outbox, rules=rules, planning=planning)

    return create_service_app(
        settings,
        handlers=build_handlers(planning),
        routers=[build_router(rules, planning), replica_router()],
        migrations=Path(__file__).parent / "migrations",
        description="Suppliers, demand, replenishment, purchase orders and receipts.",
        periodic=[
            PeriodicJob(
                name="replenishment-run", every=settings.replenishment_every_seconds, run=replenish
            )
        ],
    )
