"""Business KPIs over time (`keel_contracts.kpi_series`): the window a request asks for, and the
SQL that puts rows into its buckets, the same on PostgreSQL and SQLite.

Buckets are whole UTC hours or days. Each series is computed by the database (grouped by the
bucket's key) from the records the service keeps anyway, never from Prometheus, so the figures
are those of the books and the ledgers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import ColumnElement, extract, func, literal_column
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts.kpi_series import Bucket, KpiPoint, KpiReport, KpiSeries
from keel_contracts.roles import Role
from keel_kit.access import roles, table
from keel_kit.context import ServiceContext, UnitOfWork, service_context
from keel_kit.problems import DomainError
from keel_kit.query import SinceQuery

MAX_BUCKETS = 400
# What a request without `since` covers.
DEFAULT_SPAN = {"hour": timedelta(hours=48), "day": timedelta(days=30)}
STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
# A bucket's key as both databases write it (see `bucket_key`), and as Python writes it.
KEY_FORMAT = {"hour": "%Y-%m-%d %H", "day": "%Y-%m-%d"}
_POSTGRES_FORMAT = {"hour": "YYYY-MM-DD HH24", "day": "YYYY-MM-DD"}

BucketQuery = Annotated[Bucket, Query(description="hour or day")]


@dataclass(frozen=True)
class Window:
    """The buckets a request covers: from the one holding `since` to the one holding `until`."""

    bucket: Bucket
    since: datetime
    until: datetime

    @classmethod
    def of(cls, since: datetime | None, bucket: Bucket, now: datetime) -> Window:
        """The window asked for; a 422 naming `since` when it is in the future or holds more
        than MAX_BUCKETS buckets."""
        start = _truncate(since or now - DEFAULT_SPAN[bucket], bucket)
        if start > now:
            raise DomainError("since is in the future", field="since")
        if (now - start) // STEP[bucket] >= MAX_BUCKETS:
            raise DomainError(
                f"since is more than {MAX_BUCKETS} {bucket}s ago; ask for days, or a later since",
                field="since",
            )
        return cls(bucket=bucket, since=start, until=now)

    def starts(self) -> list[datetime]:
        step = STEP[self.bucket]
        count = (self.until - self.since) // step + 1
        return [self.since + i * step for i in range(count)]

    def series(
        self,
        name: str,
        title: str,
        unit: str,
        description: str,
        values: Mapping[str, Decimal | None],
        *,
        empty: Decimal | None = None,
    ) -> KpiSeries:
        """A series with a point for every bucket: its value by key, else `empty` (0 for a
        count, None for a rate or a time with nothing to measure)."""
        key = KEY_FORMAT[self.bucket]
        points = [
            KpiPoint(at=start, value=values.get(start.strftime(key), empty))
            for start in self.starts()
        ]
        return KpiSeries(name=name, title=title, unit=unit, description=description, points=points)


def _truncate(moment: datetime, bucket: Bucket) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == "day" else moment


def dialect_of(session: AsyncSession) -> str:
    return str(session.get_bind().dialect.name)


def bucket_key(column: Any, bucket: Bucket, dialect: str) -> ColumnElement[str]:
    """The key of the bucket a timestamp column falls in (KEY_FORMAT), in UTC.

    The format is written into the SQL, not bound: PostgreSQL takes a SELECT's expression and
    its GROUP BY's as one only when they are the same text, and two binds are two parameters.
    """
    if dialect == "postgresql":
        utc = column.op("AT TIME ZONE")(literal_column("'UTC'"))
        return func.to_char(utc, literal_column(f"'{_POSTGRES_FORMAT[bucket]}'"))
    return func.strftime(literal_column(f"'{KEY_FORMAT[bucket]}'"), column)


def seconds_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    """`end - start` in seconds, as a number."""
    if dialect == "postgresql":
        return extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400


async def per_bucket(session: AsyncSession, query: Any) -> dict[str, Decimal]:
    """A (bucket key, value) query's rows as a mapping, the buckets without a value left out."""
    return {
        key: Decimal(value) for key, value in (await session.exec(query)).all() if value is not None
    }


def ratio(part: Decimal | int | None, whole: Decimal | int | None) -> Decimal | None:
    """part / whole as a percentage with one decimal; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


# Leaders read them; operations runs the business day to day.
PERMISSIONS = table([("GET", "/v1/kpis", roles(Role.OPERATIONS, read=True))])

Report = Callable[[UnitOfWork[Any], Window], Awaitable[list[KpiSeries]]]


def kpi_router(report: Report) -> APIRouter:
    """`GET /v1/kpis?since=&bucket=`: the service's KPIs over time, as `report` computes them in
    one read-only unit of work."""
    router = APIRouter(prefix="/v1", tags=["kpis"])

    @router.get("/kpis")
    async def kpis(
        context: Annotated[ServiceContext, Depends(service_context)],
        since: SinceQuery = None,
        bucket: BucketQuery = "day",
    ) -> KpiReport:
        """The service's business KPIs per hour or day, from the bucket holding `since` (by
        default 48 hours or 30 days ago) to now; at most 400 buckets."""
        window = Window.of(since, bucket, context.clock())
        async with context.unit_of_work() as uow:
            series = await report(uow, window)
        return KpiReport(
            service=context.settings.service,
            bucket=bucket,
            since=window.since,
            until=window.until,
            series=series,
        )

    return router
