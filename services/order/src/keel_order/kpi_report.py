"""The order service's KPIs over time (`GET /v1/kpis`): orders placed, order cycle time, the
backorder rate, the fill rate, and exceptions opened and closed, from the orders, their history
and their holds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import distinct, func
from sqlmodel import col, select

from keel_contracts.kpi_series import KpiSeries
from keel_kit.kpi_series import Window, bucket_key, dialect_of, per_bucket, ratio, seconds_between
from keel_order.context import Work
from keel_order.domain import Status
from keel_order.models import Order, OrderEvent, OrderHold, OrderLine

HOUR = Decimal(3600)


async def report(uow: Work, window: Window) -> list[KpiSeries]:
    session, since = uow.session, window.since
    dialect = dialect_of(session)

    def key(column: Any) -> Any:
        return bucket_key(column, window.bucket, dialect)

    placed_in = key(Order.created_at)
    placed = await per_bucket(
        session,
        select(placed_in, func.count()).where(col(Order.created_at) >= since).group_by(placed_in),
    )
    backordered = await per_bucket(
        session,
        select(placed_in, func.count(distinct(col(Order.order_id))))
        .join(OrderEvent, col(OrderEvent.order_id) == col(Order.order_id))
        .where(col(Order.created_at) >= since, OrderEvent.status == Status.BACKORDERED)
        .group_by(placed_in),
    )
    shipped_in = key(OrderEvent.at)
    cycle = await per_bucket(
        session,
        select(shipped_in, func.avg(seconds_between(Order.created_at, OrderEvent.at, dialect)))
        .join(Order, col(Order.order_id) == col(OrderEvent.order_id))
        .where(col(OrderEvent.at) >= since, OrderEvent.status == Status.SHIPPED)
        .group_by(shipped_in),
    )
    units = (
        await session.exec(
            select(placed_in, func.sum(OrderLine.shipped), func.sum(OrderLine.quantity))
            .join(OrderLine, col(OrderLine.order_id) == col(Order.order_id))
            .where(col(Order.created_at) >= since)
            .group_by(placed_in)
        )
    ).all()
    opened_in, closed_in = key(OrderHold.opened_at), key(OrderHold.resolved_at)
    opened = await per_bucket(
        session,
        select(opened_in, func.count())
        .where(col(OrderHold.opened_at) >= since)
        .group_by(opened_in),
    )
    closed = await per_bucket(
        session,
        select(closed_in, func.count())
        .where(col(OrderHold.resolved_at) >= since)
        .group_by(closed_in),
    )
    zero = Decimal(0)
    return [
        window.series(
            "orders_placed", "Orders placed", "count",
            "Orders accepted at the intake, by when they were placed.",
            placed, empty=zero,
        ),
        window.series(
            "order_cycle_hours", "Order cycle time (mean, hours)", "hours",
            "From placing to the last unit shipped, for the orders that finished shipping then.",
            {k: (v / HOUR).quantize(Decimal("0.01")) for k, v in cycle.items()},
        ),
        window.series(
            "backorder_rate", "Backorder rate (%)", "percent",
            "Of the orders placed then, the share that waited for stock at some point.",
            {k: ratio(backordered.get(k, zero), n) for k, n in placed.items()},
        ),
        window.series(
            "fill_rate", "Fill rate (%)", "percent",
            "Of the units ordered then, the share shipped so far (recent orders are still "
            "shipping).",
            {k: ratio(shipped, ordered) for k, shipped, ordered in units},
        ),
        window.series(
            "exceptions_opened", "Exceptions opened", "count",
            "Holds opened: payment and fraud reviews, limit reviews, timeouts, supplier delays.",
            opened, empty=zero,
        ),
        window.series(
            "exceptions_closed", "Exceptions closed", "count",
            "Holds resolved by a person or closed by the order's end.",
            closed, empty=zero,
        ),
    ]  # fmt: skip
