"""The demo's buyers and suppliers: replenishment runs, approvals, a late supplier, receipts.

The day is compressed into minutes, so goods arrive moments after a supplier confirms them:
measured lead times come out near zero and every delivery is early against its promise. What the
demo shows is the flow and the arithmetic, not realistic supplier timing.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from keel_cli.demo.catalog import Holding, expect

HISTORY_DAYS = 28
DELAY_DAYS = 5


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    name: str
    lead_time_days: int
    late: bool  # moves its date after confirming, then delivers short
    fill: float  # share of each line it delivers


SUPPLIERS = (
    Supplier("SUP-PROMPT", "Prompt Supply Co", 2, late=False, fill=1.0),
    Supplier("SUP-STEADY", "Steady Wholesale", 4, late=False, fill=1.0),
    Supplier("SUP-LATEDAY", "Lateday Imports", 3, late=True, fill=0.9),
)


@dataclass
class Replenishment:
    purchase_orders: int = 0
    suggestions: int = 0
    units_ordered: int = 0
    units_received: int = 0
    delayed_purchase_orders: int = 0
    supplier_delay_exceptions: int = 0
    suppliers: list[dict[str, Any]] = field(default_factory=list)
    # Inventory's promise of one of the late supplier's SKUs, asked while its goods were still
    # on order (after the delay): how available-to-promise weighed them.
    late_promise: dict[str, Any] = field(default_factory=dict)

    @property
    def supplier_fill_rate(self) -> float | None:
        return self.units_received / self.units_ordered if self.units_ordered else None


def supplier_of(sku_index: int) -> Supplier:
    return SUPPLIERS[sku_index % len(SUPPLIERS)]


async def seed(
    procurement: httpx.AsyncClient,
    holdings: list[Holding],
    daily_demand: float,
    rng: random.Random,
) -> None:
    """Suppliers, a replenishment policy per SKU and warehouse holding it, and four weeks of
    sales history (as a business moving onto Keel would import it), so the first run has a
    demand signal to plan with."""
    for supplier in SUPPLIERS:
        body = {
            "supplier_id": supplier.supplier_id,
            "name": supplier.name,
            "lead_time_days": supplier.lead_time_days,
        }
        expect(await procurement.post("/v1/suppliers", json=body), 201, 409)
    limit = asyncio.Semaphore(16)

    async def policy(holding: Holding) -> None:
        body = {
            "supplier_id": supplier_of(holding.sku_index).supplier_id,
            "service_level": "0.95",
            "min_order_qty": 10,
            "pack_size": 5,
        }
        async with limit:
            path = f"/v1/policies/{holding.sku}/{holding.location_id}"
            expect(await procurement.put(path, json=body), 200, 201)

    await asyncio.gather(*(policy(h) for h in holdings))
    today = datetime.now(UTC).date()
    series = [
        {
            "sku": h.sku,
            "location_id": h.location_id,
            "days": [
                {"date": (today - timedelta(days=back)).isoformat(), "quantity": quantity}
                for back, quantity in zip(
                    range(HISTORY_DAYS, 0, -1),
                    _daily_sales(daily_demand / h.holders, HISTORY_DAYS, rng),
                    strict=True,
                )
            ],
        }
        for h in holdings
    ]
    for chunk in _chunks(series, 200):
        expect(await procurement.post("/v1/demand-history", json={"series": chunk}), 201)


async def replenish(
    procurement: httpx.AsyncClient,
    order: httpx.AsyncClient,
    *,
    approvers: Sequence[httpx.AsyncClient],
    warehouse: httpx.AsyncClient,
    inventory: httpx.AsyncClient | None = None,
    patience: float = 60.0,
) -> Replenishment:
    """One run, then each purchase order it drafted through approval, sending, confirmation and
    receipt. The late supplier moves its dates first, while orders still wait for its goods.

    A buyer (`procurement`) runs, sends and confirms; `approvers` are other buyers' clients, as
    many different people as a large order needs (the run drafted the orders, so none of them
    is their creator); `warehouse` receives the goods; `order` reads the exceptions raised;
    `inventory`, if given, is asked for a promise of the late supplier's goods."""
    response = await procurement.post("/v1/replenishment-runs", json={})
    expect(response, 201)
    run = response.json()
    result = Replenishment(suggestions=run["suggestions_made"])
    today = datetime.now(UTC).date()
    pos = [
        await _approve_send_confirm(procurement, approvers, p, today)
        for p in await _drafted_by(procurement, run["run_id"])
    ]
    result.purchase_orders = len(pos)
    late = [po for po in pos if _supplier(po).late]
    for po in late:
        moved = date.fromisoformat(po["expected_date"]) + timedelta(days=DELAY_DAYS)
        response = await procurement.post(
            f"/v1/purchase-orders/{po['po_id']}/confirm", json={"expected_date": moved.isoformat()}
        )
        expect(response, 200)
    result.delayed_purchase_orders = len(late)
    result.supplier_delay_exceptions = await _delay_exceptions(order, late, patience)
    if inventory is not None and late:
        result.late_promise = await _promise_beyond_stock(inventory, late[0]["lines"][0]["sku"])
    for po in sorted(pos, key=lambda p: _supplier(p).late):  # the prompt ones first
        ordered, received = await _receive(procurement, warehouse, po)
        result.units_ordered += ordered
        result.units_received += received
    for supplier in SUPPLIERS:
        result.suppliers.append(
            (await procurement.get(f"/v1/suppliers/{supplier.supplier_id}")).json()
        )
    return result


async def _promise_beyond_stock(inventory: httpx.AsyncClient, sku: str) -> dict[str, Any]:
    """Inventory's promise of one unit more than may be sold of `sku` now, which only goods on
    order can keep (on-order lines reach inventory moments after procurement confirms them)."""
    for _ in range(40):
        for_sale = (await inventory.get(f"/v1/availability/{sku}")).json()
        wanted = for_sale["available_to_sell"] + 1
        answer = await inventory.get(f"/v1/availability/{sku}/promise", params={"quantity": wanted})
        expect(answer, 200)
        promise: dict[str, Any] = answer.json()
        if any(s["kind"] == "purchase_order" for s in promise["sources"]):
            return promise
        await asyncio.sleep(0.25)
    return promise


async def _drafted_by(procurement: httpx.AsyncClient, run_id: str) -> list[str]:
    """The purchase orders the run drafted, in the order its suggestions name them: read from
    its suggestions a page at a time (a run over every SKU and warehouse makes thousands)."""
    po_ids: dict[str, None] = {}
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200}
        if cursor is not None:
            params["cursor"] = cursor
        response = await procurement.get(
            f"/v1/replenishment-runs/{run_id}/suggestions", params=params
        )
        expect(response, 200)
        page = response.json()
        po_ids.update((s["po_id"], None) for s in page["items"] if s["po_id"] is not None)
        cursor = page["next_cursor"]
        if cursor is None:
            return list(po_ids)


async def _approve_send_confirm(
    procurement: httpx.AsyncClient, approvers: Sequence[httpx.AsyncClient], po_id: str, today: date
) -> dict[str, Any]:
    po: dict[str, Any] = (await procurement.get(f"/v1/purchase-orders/{po_id}")).json()
    for approver in approvers[: po["approvals_required"]]:
        # The approver is the caller, as their token says: the body names nobody.
        expect(await approver.post(f"/v1/purchase-orders/{po_id}/approve"), 200)
    expect(await procurement.post(f"/v1/purchase-orders/{po_id}/send"), 200)
    expected = today + timedelta(days=_supplier(po).lead_time_days)
    response = await procurement.post(
        f"/v1/purchase-orders/{po_id}/confirm", json={"expected_date": expected.isoformat()}
    )
    expect(response, 200)
    confirmed: dict[str, Any] = response.json()
    return confirmed


async def _delay_exceptions(
    order: httpx.AsyncClient, late: list[dict[str, Any]], patience: float
) -> int:
    """The supplier_delay exceptions the order service raised for the late purchase orders,
    once their number stops growing (the delays reach it asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    seen = -1
    while True:
        count = 0
        for po in late:
            count += await _count_exceptions(order, po["po_id"])
        if count == seen or loop.time() > deadline:
            return count
        seen = count
        await asyncio.sleep(2.0)


async def _count_exceptions(order: httpx.AsyncClient, po_id: str) -> int:
    count = 0
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"type": "supplier_delay", "reference": po_id, "limit": 200}
        if cursor is not None:
            params["cursor"] = cursor
        page = (await order.get("/v1/exceptions", params=params)).json()
        count += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return count


async def _receive(
    procurement: httpx.AsyncClient, warehouse: httpx.AsyncClient, po: dict[str, Any]
) -> tuple[int, int]:
    """The warehouse receives what the supplier delivers; a buyer closes a short delivery
    short."""
    supplier = _supplier(po)
    lines = [
        {"sku": line["sku"], "quantity": math.floor(line["quantity"] * supplier.fill)}
        for line in po["lines"]
    ]
    delivered = [line for line in lines if line["quantity"] > 0]
    path = f"/v1/purchase-orders/{po['po_id']}/receipts"
    expect(await warehouse.post(path, json={"lines": delivered}), 201)
    if supplier.fill < 1.0:
        expect(await procurement.post(f"/v1/purchase-orders/{po['po_id']}/close"), 200)
    ordered = sum(line["quantity"] for line in po["lines"])
    return ordered, sum(line["quantity"] for line in delivered)


def _supplier(po: dict[str, Any]) -> Supplier:
    [supplier] = [s for s in SUPPLIERS if s.supplier_id == po["supplier_id"]]
    return supplier


def _daily_sales(mean: float, days: int, rng: random.Random) -> list[int]:
    """Noisy daily unit sales around `mean` (never negative)."""
    return [max(0, round(rng.gauss(mean, mean * 0.4))) for _ in range(days)]


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
