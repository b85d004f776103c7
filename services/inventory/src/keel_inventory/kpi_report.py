"""Inventory's KPIs over time (`GET /v1/kpis`): units reserved, and the oversold units its
periodic check counts (which must stay 0), with the oversell rate between them; and inventory
accuracy, the share of counted lines within tolerance."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Integer, func
from sqlmodel import col, select

from keel_contracts.kpi_series import KpiSeries
from keel_inventory.context import Work
from keel_inventory.models import (
    CycleCount,
    CycleCountLine,
    OversellCheck,
    Reservation,
    ReservationAllocation,
)
from keel_inventory.repository.invariants import count_oversold
from keel_kit.kpi_series import Window, bucket_key, dialect_of, per_bucket, ratio


async def record_oversell_check(work: Work) -> None:
    """Count the oversold units now and keep the count (a periodic job)."""
    locations, units = await count_oversold(work.session)
    work.session.add(
        OversellCheck(checked_at=work.service.clock(), oversold_units=units, locations=locations)
    )


async def report(uow: Work, window: Window) -> list[KpiSeries]:
    session, since = uow.session, window.since
    dialect = dialect_of(session)

    reserved_in = bucket_key(Reservation.created_at, window.bucket, dialect)
    reserved = await per_bucket(
        session,
        select(reserved_in, func.sum(ReservationAllocation.quantity))
        .join(
            ReservationAllocation,
            col(ReservationAllocation.reservation_id) == col(Reservation.reservation_id),
        )
        .where(col(Reservation.created_at) >= since)
        .group_by(reserved_in),
    )
    checked_in = bucket_key(OversellCheck.checked_at, window.bucket, dialect)
    oversold = await per_bucket(
        session,
        select(checked_in, func.max(OversellCheck.oversold_units))
        .where(col(OversellCheck.checked_at) >= since)
        .group_by(checked_in),
    )
    counted_in = bucket_key(CycleCount.counted_at, window.bucket, dialect)
    counted_lines = (
        select(counted_in, func.count())
        .join(CycleCountLine, col(CycleCountLine.count_id) == col(CycleCount.count_id))
        .where(col(CycleCount.counted_at) >= since)
        .group_by(counted_in)
    )
    counted = await per_bucket(session, counted_lines)
    accurate = await per_bucket(
        session,
        counted_lines.with_only_columns(
            counted_in, func.sum(func.cast(col(CycleCountLine.within_tolerance), Integer))
        ),
    )
    zero = Decimal(0)
    return [
        window.series(
            "units_reserved", "Units reserved", "units",
            "Units held for orders, by when the reservation was made.",
            reserved, empty=zero,
        ),
        window.series(
            "oversold_units", "Oversold units (most seen)", "units",
            "Units reserved beyond sellable at the worst of the periodic checks (every 5 "
            "minutes by default); null where no check ran.",
            oversold,
        ),
        window.series(
            "oversell_rate", "Oversell rate (%)", "percent",
            "The most units oversold at a check, over the units reserved then.",
            {k: ratio(units, reserved.get(k)) for k, units in oversold.items()},
        ),
        window.series(
            "inventory_accuracy", "Inventory accuracy (%)", "percent",
            "Lines of cycle counts whose variance was within tolerance, over the lines counted "
            "(by when they were counted); null where nothing was counted.",
            {k: ratio(accurate.get(k), lines) for k, lines in counted.items()},
        ),
    ]  # fmt: skip
