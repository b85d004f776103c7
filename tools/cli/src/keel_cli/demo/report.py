"""The end-of-day report, read back from the services themselves."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from keel_cli.demo.governance import Governance
from keel_cli.demo.procure import Replenishment
from keel_cli.demo.shoppers import Placed
from keel_kit.stats import percentile


@dataclass(frozen=True)
class Clients:
    order: httpx.AsyncClient
    inventory: httpx.AsyncClient
    finance: httpx.AsyncClient
    returns: httpx.AsyncClient


@dataclass
class Report:
    orders: int
    by_status: Counter[str]
    backorder_rate: float
    fill_rate: float | None  # units shipped / units ordered, over orders customers kept
    backorders_resolved: int  # waiting after the day, delivered thanks to the receipts
    backorders: int
    cycle_p50_s: float | None
    cycle_p95_s: float | None
    oversold_units: int
    ledger_matches_balances: bool
    trial_balance: dict[str, Any]
    replenishment: Replenishment
    returns: dict[str, Any]
    reconciliation: dict[str, Any]
    governance: Governance = field(default_factory=Governance)
    channels: list[dict[str, Any]] = field(default_factory=list)


async def build(
    clients: Clients,
    placed: list[Placed],
    statuses: dict[str, str],
    *,
    backordered: list[str],
    replenishment: Replenishment,
    since: datetime,
    governance: Governance | None = None,
) -> Report:
    limit = asyncio.Semaphore(16)

    async def shown(order_id: str) -> dict[str, Any]:
        async with limit:
            body: dict[str, Any] = (await clients.order.get(f"/v1/orders/{order_id}")).json()
            return body

    orders = await asyncio.gather(*(shown(p.order_id) for p in placed))
    cycle_times = []
    ever_backordered = 0
    ordered_units = shipped_units = 0
    for body in orders:
        seen = {e["status"]: datetime.fromisoformat(e["at"]) for e in body["history"]}
        if "backordered" in seen:
            ever_backordered += 1
        if "delivered" in seen and "received" in seen:
            cycle_times.append((seen["delivered"] - seen["received"]).total_seconds())
        if body["status"] not in ("cancelled", "rejected"):
            ordered_units += sum(line["quantity"] for line in body["lines"])
            shipped_units += sum(line["shipped"] for line in body["lines"])
    invariants = (await clients.inventory.get("/v1/invariants")).json()
    margins = await clients.finance.get("/v1/margins", params={"since": since.isoformat()})
    returned = await clients.returns.get("/v1/returns/summary", params={"since": since.isoformat()})
    return Report(
        orders=len(placed),
        by_status=Counter(statuses.values()),
        backorder_rate=ever_backordered / len(placed) if placed else 0.0,
        fill_rate=shipped_units / ordered_units if ordered_units else None,
        backorders_resolved=sum(statuses[o] == "delivered" for o in backordered),
        backorders=len(backordered),
        cycle_p50_s=percentile(cycle_times, 0.50),
        cycle_p95_s=percentile(cycle_times, 0.95),
        oversold_units=int(invariants["oversold_units"]),
        ledger_matches_balances=bool(invariants["ledger_matches_balances"]),
        trial_balance=(await clients.finance.get("/v1/trial-balance")).json(),
        replenishment=replenishment,
        returns=returned.json() if returned.status_code == 200 else {},
        reconciliation=await reconciliation(clients.finance),
        governance=governance or Governance(),
        channels=margins.json()["channels"] if margins.status_code == 200 else [],
    )


async def reconciliation(finance: httpx.AsyncClient, patience: float = 60.0) -> dict[str, Any]:
    """Finance's inventory reconciliation, once it matches or `patience` runs out: finance and
    inventory learn the day's last movements asynchronously, so a mismatch can be lag."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        body: dict[str, Any] = (await finance.get("/v1/reconciliation/inventory")).json()
        if body.get("matches") or loop.time() > deadline:
            return body
        await asyncio.sleep(1.0)
