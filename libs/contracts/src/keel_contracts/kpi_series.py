"""One shape for the business KPIs over time that each service answers at `GET /v1/kpis`
(`?since=&bucket=hour|day`), where the service owns the KPI: the console's leadership charts
read them from the services themselves, so they work without the observability tools."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from keel_contracts.times import UtcDatetime

Bucket = Literal["hour", "day"]


class KpiPoint(BaseModel):
    """One bucket's value; null when the bucket had nothing to measure (no order shipped in it,
    say), which is not the same as zero."""

    at: UtcDatetime  # the bucket's start
    value: Decimal | None


class KpiSeries(BaseModel):
    name: str  # stable, for code: `order_cycle_hours`
    title: str  # for people: "Order cycle time (mean, hours)"
    unit: str  # `count`, `hours`, `days`, `percent`, `units`
    description: str  # how it is measured, in one sentence
    points: list[KpiPoint]


class KpiReport(BaseModel):
    service: str
    bucket: Bucket
    since: UtcDatetime
    until: UtcDatetime
    series: list[KpiSeries]
