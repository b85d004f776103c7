"""The end-of-day report, read back from the services themselves."""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from keel_cli.demo.shoppers import Placed


@dataclass
class Report:
    orders: int
    by_status: Counter[str]
    backorder_rate: float
    cycle_p50_s: float | None
    cycle_p95_s: float | None
    oversold_units: int
    ledger_matches_balances: bool
    trial_balance: dict[str, Any]
    channels: list[dict[str, Any]] = field(default_factory=list)


async def build(
    order: httpx.AsyncClient,
    inventory: httpx.AsyncClient,
    finance: httpx.AsyncClient,
    placed: list[Placed],
    statuses: dict[str, str],
    since: datetime,
) -> Report:
    limit = asyncio.Semaphore(16)

    async def history(order_id: str) -> list[dict[str, Any]]:
        async with limit:
            body: list[dict[str, Any]] = (await order.get(f"/v1/orders/{order_id}")).json()[
                "history"
            ]
            return body

    histories = await asyncio.gather(*(history(p.order_id) for p in placed))
    cycle_times = []
    backordered = 0
    for entries in histories:
        seen = {e["status"]: datetime.fromisoformat(e["at"]) for e in entries}
        if "backordered" in seen:
            backordered += 1
        if "delivered" in seen and "received" in seen:
            cycle_times.append((seen["delivered"] - seen["received"]).total_seconds())
    invariants = (await inventory.get("/v1/invariants")).json()
    oversold = sum(max(0, o["reserved"] - o["sellable"]) for o in invariants["oversold"])
    margins = await finance.get("/v1/margins", params={"since": since.isoformat()})
    return Report(
        orders=len(placed),
        by_status=Counter(statuses.values()),
        backorder_rate=backordered / len(placed) if placed else 0.0,
        cycle_p50_s=_percentile(cycle_times, 50),
        cycle_p95_s=_percentile(cycle_times, 95),
        oversold_units=oversold,
        ledger_matches_balances=bool(invariants["ledger_matches_balances"]),
        trial_balance=(await finance.get("/v1/trial-balance")).json(),
        channels=margins.json()["channels"] if margins.status_code == 200 else [],
    )


def _percentile(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]
