"""The demo day's inventory governance: a marketplace capped at a share of stock, lots with
expiry on a few SKUs, a transfer between warehouses that arrives one unit short, a cycle count
that finds units missing and waits for operations' approval, and the figures the report adds
(inventory accuracy, what each channel may sell, stock in transit, a recall)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from keel_cli.demo.catalog import WAREHOUSES, Item, expect

# The marketplace operations caps, and at what share of each SKU's sellable units.
CAPPED_CHANNEL = "marketplace-b"
CAP_PERCENT = 60
LOTTED_SKUS = 3  # how many SKUs arrive in lots, each in two with different expiry dates
LOT_UNITS = 10
TRANSFER_UNITS = 5
COUNTED_SKUS = 4  # one of them is found short


@dataclass
class Governance:
    recall_lot: str = ""
    recall_sku: str = ""
    recall: dict[str, Any] = field(default_factory=dict)
    transfer: dict[str, Any] = field(default_factory=dict)
    count: dict[str, Any] = field(default_factory=dict)
    approved: list[dict[str, Any]] = field(default_factory=list)
    available_by_channel: dict[str, int] = field(default_factory=dict)
    in_transit: int = 0

    @property
    def accuracy(self) -> float | None:
        lines = self.count.get("lines", [])
        return sum(bool(x["within_tolerance"]) for x in lines) / len(lines) if lines else None


async def cap_marketplace(operations: httpx.AsyncClient, patience: float = 60.0) -> None:
    """Operations caps the marketplace, once inventory has heard of the channel (a 404 until
    the order service's announcement arrives)."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        answer = await operations.put(
            f"/v1/allocations/{CAPPED_CHANNEL}", json={"cap_percent": CAP_PERCENT}
        )
        if answer.status_code != 404 or asyncio.get_running_loop().time() > deadline:
            expect(answer, 200)
            return
        await asyncio.sleep(0.5)


async def receive_lots(warehouse: httpx.AsyncClient, items: list[Item]) -> Governance:
    """Two lots of each of a few SKUs at the first warehouse, the second expiring later: issues
    take the first one first, which the recall at the end of the day shows."""
    today = date.today()
    result = Governance()
    location_id = WAREHOUSES[0][0]
    for item in [i for i in items if not i.scarce][:LOTTED_SKUS]:
        for n, expires in ((1, today + timedelta(days=30)), (2, today + timedelta(days=90))):
            lot = f"{item.sku}-L{n}"
            body = {
                "sku": item.sku,
                "location_id": location_id,
                "quantity": LOT_UNITS,
                "unit_cost": str(item.unit_cost),
                "reference": f"delivery of lot {lot}",
                "lot": lot,
                "expires_on": expires.isoformat(),
            }
            key = {"Idempotency-Key": f"lot-{lot}"}
            expect(await warehouse.post("/v1/receipts", json=body, headers=key), 201)
        result.recall_lot, result.recall_sku = f"{item.sku}-L1", item.sku
    return result


async def close_the_day(
    result: Governance,
    *,
    operations: httpx.AsyncClient,
    warehouse: httpx.AsyncClient,
    reader: httpx.AsyncClient,
    items: list[Item],
    channels: tuple[str, ...],
) -> Governance:
    """The day's transfer and count once the orders have settled, then the report's figures.
    `reader` (leadership) stands for the simulation's knowledge of the shelves: the counter
    is shown nothing of what the ledger expects."""
    free = await _free_by_sku(reader, [i.sku for i in items], WAREHOUSES[0][0])
    plenty = sorted(free, key=lambda sku: -free[sku])
    if plenty and free[plenty[0]] >= TRANSFER_UNITS:
        result.transfer = await _transfer_short(operations, warehouse, plenty[0])
    counted = [sku for sku in plenty[1 : 1 + COUNTED_SKUS] if free[sku] >= 2]
    if counted:
        await _count(result, operations, warehouse, reader, counted)
    if result.recall_lot:
        params = {"sku": result.recall_sku}
        answer = await reader.get(f"/v1/lots/{result.recall_lot}", params=params)
        result.recall = answer.json() if answer.status_code == 200 else {}
    result.available_by_channel = await _available_by_channel(reader, items, channels)
    transfers = (await reader.get("/v1/transfers", params={"limit": 200})).json()["items"]
    result.in_transit = sum(t["in_transit"] for t in transfers)
    return result


async def _transfer_short(
    operations: httpx.AsyncClient, warehouse: httpx.AsyncClient, sku: str
) -> dict[str, Any]:
    """Operations moves a few units east to west; the warehouse counts one fewer in, which
    leaves it in transit and raises a transfer_discrepancy for operations."""
    body = {
        "sku": sku,
        "from_location_id": WAREHOUSES[0][0],
        "to_location_id": WAREHOUSES[-1][0],
        "quantity": TRANSFER_UNITS,
    }
    made = await operations.post("/v1/transfers", json=body)
    expect(made, 201)
    transfer_id = made.json()["transfer_id"]
    expect(await operations.post(f"/v1/transfers/{transfer_id}/approve"), 200)
    expect(await warehouse.post(f"/v1/transfers/{transfer_id}/ship"), 200)
    counted = {"quantity": TRANSFER_UNITS - 1}
    received = await warehouse.post(f"/v1/transfers/{transfer_id}/receive", json=counted)
    expect(received, 200)
    answer: dict[str, Any] = received.json()
    return answer


async def _count(
    result: Governance,
    operations: httpx.AsyncClient,
    warehouse: httpx.AsyncClient,
    shelves: httpx.AsyncClient,
    skus: list[str],
) -> None:
    """The warehouse counts a few SKUs at the first warehouse and finds a quarter of the free
    units of the first one missing (the simulation reads the shelves from `shelves`); operations
    approves what waits for approval."""
    location_id = WAREHOUSES[0][0]
    made = await warehouse.post("/v1/counts", json={"location_id": location_id, "skus": skus})
    expect(made, 201)
    count_id = made.json()["count_id"]
    lines = []
    for n, sku in enumerate(skus):
        levels = await _levels(shelves, sku, location_id)
        missing = max(1, (levels["sellable"] - levels["reserved"]) // 4) if n == 0 else 0
        lines.append({"sku": sku, "counted": levels["sellable"] - missing})
    posted = await warehouse.post(f"/v1/counts/{count_id}/results", json={"lines": lines})
    expect(posted, 200)
    result.count = posted.json()
    for adjustment in result.count["adjustments"]:
        if adjustment["status"] == "pending_approval":
            path = f"/v1/adjustments/{adjustment['adjustment_id']}/approve"
            approved = await operations.post(path)
            expect(approved, 200)
            result.approved.append(approved.json())


async def _levels(client: httpx.AsyncClient, sku: str, location_id: str) -> dict[str, int]:
    body = (await client.get(f"/v1/availability/{sku}")).json()
    here = [x for x in body["locations"] if x["location_id"] == location_id]
    return here[0] if here else {"sellable": 0, "reserved": 0}


async def _free_by_sku(client: httpx.AsyncClient, skus: list[str], where: str) -> dict[str, int]:
    levels = await asyncio.gather(*(_levels(client, sku, where) for sku in skus))
    return {sku: x["sellable"] - x["reserved"] for sku, x in zip(skus, levels, strict=True)}


async def _available_by_channel(
    client: httpx.AsyncClient, items: list[Item], channels: tuple[str, ...]
) -> dict[str, int]:
    """Units each channel may sell, summed over the catalog."""
    limit = asyncio.Semaphore(16)

    async def available(sku: str, channel: str) -> int:
        async with limit:
            body = await client.get(f"/v1/availability/{sku}", params={"channel": channel})
            return int(body.json()["available_to_sell"])

    totals = {}
    for channel in channels:
        units = await asyncio.gather(*(available(i.sku, channel) for i in items))
        totals[channel] = sum(units)
    return totals
