"""Margins per sales channel and currency: revenue less cost of goods sold, from the journal,
over a period (`GET /v1/margins`) and over time for leadership (`GET /v1/kpis`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from keel_contracts import money
from keel_contracts.kpi_series import KpiSeries
from keel_finance import domain
from keel_finance.context import Work
from keel_finance.margins import repository
from keel_finance.models import JournalEntry
from keel_finance.schemas import ChannelMargin, MarginsPublic
from keel_kit.kpi_series import Window, bucket_key, dialect_of, ratio

PERCENT_PLACES = Decimal("0.01")  # a margin's share of revenue, in percent: a ratio, not money


async def by_channel(*, uow: Work, since: datetime | None = None) -> MarginsPublic:
    """Each channel's margin per currency, from the entries posted since `since` if given."""
    rows = await repository.margins_by_channel(uow.session, since=since)
    channels = []
    for channel, currency, revenue, cost in rows:
        margin = revenue - cost
        percent = (margin / revenue * 100).quantize(PERCENT_PLACES) if revenue else domain.ZERO
        channels.append(
            ChannelMargin(
                channel=channel,
                currency=currency,
                revenue=money.shown(revenue, currency),
                cost_of_goods=money.shown(cost, currency),
                margin=money.shown(margin, currency),
                margin_percent=percent,
            )
        )
    return MarginsPublic(channels=channels)


async def report(uow: Work, window: Window) -> list[KpiSeries]:
    session = uow.session
    bucket = bucket_key(JournalEntry.posted_at, window.bucket, dialect_of(session))
    rows = await repository.margins_by_bucket(session, since=window.since, bucket=bucket)
    margins: dict[tuple[str, str], dict[str, Decimal | None]] = defaultdict(dict)
    for key, channel, currency, revenue, cost in rows:
        margins[(channel, currency)][key] = ratio(revenue - cost, revenue)
    return [
        window.series(
            f"margin_percent:{channel}:{currency}",
            f"Margin, {channel} ({currency}, %)",
            "percent",
            "Revenue less cost of goods sold, over revenue, of the entries posted then for "
            "the channel's orders.",
            values,
        )
        for (channel, currency), values in sorted(margins.items())
    ]
