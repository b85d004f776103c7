"""Returns' KPIs over time (`GET /v1/kpis`): returns authorized, and the return processing time
from the goods' receipt to the refund paid."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func
from sqlmodel import col, select

from keel_contracts.kpi_series import KpiSeries
from keel_kit.kpi_series import Window, bucket_key, dialect_of, per_bucket, seconds_between
from keel_returns.context import Work
from keel_returns.models import ReturnAuthorization as Return

HOUR = Decimal(3600)


async def report(uow: Work, window: Window) -> list[KpiSeries]:
    session, since = uow.session, window.since
    dialect = dialect_of(session)

    authorized_in = bucket_key(Return.created_at, window.bucket, dialect)
    authorized = await per_bucket(
        session,
        select(authorized_in, func.count())
        .where(col(Return.created_at) >= since)
        .group_by(authorized_in),
    )
    refunded_in = bucket_key(Return.refunded_at, window.bucket, dialect)
    processing = await per_bucket(
        session,
        select(
            refunded_in,
            func.avg(seconds_between(Return.received_at, Return.refunded_at, dialect)),
        )
        .where(col(Return.refunded_at) >= since, col(Return.received_at).is_not(None))
        .group_by(refunded_in),
    )
    return [
        window.series(
            "returns_authorized", "Returns authorized", "count",
            "Return authorizations given, by when.",
            authorized, empty=Decimal(0),
        ),
        window.series(
            "return_processing_hours", "Return processing time (mean, hours)", "hours",
            "From the goods' receipt to the last refund paid, for returns refunded then.",
            {k: (v / HOUR).quantize(Decimal("0.01")) for k, v in processing.items()},
        ),
    ]  # fmt: skip
