"""Procurement's KPIs over time (`GET /v1/kpis`): how responsive buying is (purchase orders
drafted, hours from drafting to sending) and how suppliers answer (days from sending to the
first goods)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from keel_contracts.kpi_series import KpiSeries
from keel_kit.kpi_series import Window, bucket_key, dialect_of, per_bucket, seconds_between
from keel_procurement.context import Work
from keel_procurement.models import PurchaseOrder as Po

HOUR, DAY = Decimal(3600), Decimal(86400)


async def report(uow: Work, window: Window) -> list[KpiSeries]:
    session, since = uow.session, window.since
    dialect = dialect_of(session)

    def key(column: Any) -> Any:
        return bucket_key(column, window.bucket, dialect)

    drafted = await per_bucket(
        session,
        select(key(Po.created_at), func.count())
        .where(col(Po.created_at) >= since)
        .group_by(key(Po.created_at)),
    )
    to_send = await per_bucket(
        session,
        select(key(Po.sent_at), func.avg(seconds_between(Po.created_at, Po.sent_at, dialect)))
        .where(col(Po.sent_at) >= since)
        .group_by(key(Po.sent_at)),
    )
    lead = await per_bucket(
        session,
        select(
            key(Po.first_received_at),
            func.avg(seconds_between(Po.sent_at, Po.first_received_at, dialect)),
        )
        .where(col(Po.first_received_at) >= since, col(Po.sent_at).is_not(None))
        .group_by(key(Po.first_received_at)),
    )
    places = Decimal("0.01")
    return [
        window.series(
            "purchase_orders_drafted", "Purchase orders drafted", "count",
            "Drafted by buyers and by replenishment runs, by when.",
            drafted, empty=Decimal(0),
        ),
        window.series(
            "draft_to_sent_hours", "Drafting to sending (mean, hours)", "hours",
            "How long purchase orders sent then took from their draft, approvals included.",
            {k: (v / HOUR).quantize(places) for k, v in to_send.items()},
        ),
        window.series(
            "supplier_lead_time_days", "Supplier lead time (mean, days)", "days",
            "From sending to the first goods, for the purchase orders first received then.",
            {k: (v / DAY).quantize(places) for k, v in lead.items()},
        ),
    ]  # fmt: skip
