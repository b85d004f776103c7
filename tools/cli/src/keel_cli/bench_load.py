"""What `keel bench` offers the stack: the catalog it seeds, and the orders its channels send at
the offered rate, each request signed by its orders' channel."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from keel_cli import stack
from keel_cli.demo import catalog
from keel_cli.demo.shoppers import CHANNELS
from keel_cli.people import OPERATIONS, WAREHOUSE


@dataclass
class Run:
    name: str
    offered_rate: float | None  # None: saturation
    duration: float
    accepted: dict[str, float] = field(default_factory=dict)  # order id -> unix time of the 202
    refused: int = 0
    started_at: float | None = None  # unix time the first order was offered


async def drive(
    run: Run,
    channels: Mapping[str, httpx.AsyncClient],
    body: Callable[[int], dict[str, Any]],
    concurrency: int,
    batch: int,
) -> None:
    """Offer orders at `run.offered_rate` (or as fast as `concurrency` allows) for the run,
    one per request or `batch` per request to the batch endpoint, each request through its
    orders' channel's client in `channels` (a request's orders share their channel)."""
    limit = asyncio.Semaphore(concurrency)
    start = time.monotonic()
    run.started_at = time.time()
    tasks: list[asyncio.Task[None]] = []
    n = 0

    async def place(payloads: list[dict[str, Any]]) -> None:
        order = channels[payloads[0]["channel"]]
        try:
            if batch == 1:
                accepted = await _post_one(order, payloads[0])
            else:
                accepted = await _post_batch(order, payloads)
        finally:
            limit.release()
        now = time.time()
        for order_id in accepted:
            run.accepted[order_id] = now
        run.refused += len(payloads) - len(accepted)

    while time.monotonic() - start < run.duration:
        if run.offered_rate is not None:
            due = start + n / run.offered_rate
            if due > time.monotonic():
                await asyncio.sleep(due - time.monotonic())
        await limit.acquire()
        tasks.append(asyncio.create_task(place([body(n + i) for i in range(batch)])))
        n += batch
    await asyncio.gather(*tasks)


async def _post_one(order: httpx.AsyncClient, payload: dict[str, Any]) -> list[str]:
    response = await order.post(
        "/v1/orders", json=payload, headers={"Idempotency-Key": payload["external_id"]}
    )
    return [response.json()["order_id"]] if response.status_code == 202 else []


async def _post_batch(order: httpx.AsyncClient, payloads: list[dict[str, Any]]) -> list[str]:
    items = [{"idempotency_key": p["external_id"], "order": p} for p in payloads]
    response = await order.post("/v1/orders/batch", json={"orders": items})
    if response.status_code != 200:
        return []
    return [r["order"]["order_id"] for r in response.json()["results"] if r["status"] == 202]


async def seed_stock(skus: int, state_dir: Path | None = None) -> list[catalog.Item]:
    """Plenty of stock, so every order can be confirmed: the bench measures flow, not scarcity.
    Operations registers the items and checks they replicated, a warehouse person receives."""
    rng = random.Random(11)
    run = f"B{int(time.time()) % 100000:05d}"
    items = [
        catalog.Item(
            sku=f"{run}-{n:03d}",
            unit_cost=Decimal("5.00"),
            price=Decimal("12.00"),
            scarce=False,
            index=n,
        )
        for n in range(1, skus + 1)
    ]
    async with inventory_people(state_dir) as (registering, receiving):
        await catalog.seed(registering, receiving, items, rng, units=(100_000, 100_000))
    await wait_replicated([item.sku for item in items], state_dir)
    return items


@asynccontextmanager
async def inventory_people(
    state_dir: Path | None = None,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Operations (registers items and locations) and a warehouse person (receives stock), each
    a client of the inventory service."""
    inventory = stack.url("inventory")
    async with (
        httpx.AsyncClient(
            base_url=inventory, timeout=30, headers=OPERATIONS.headers(state_dir)
        ) as registering,
        httpx.AsyncClient(
            base_url=inventory, timeout=30, headers=WAREHOUSE.headers(state_dir)
        ) as receiving,
    ):
        yield registering, receiving


async def wait_replicated(skus: list[str], state_dir: Path | None = None) -> None:
    """Return once every service that keeps a copy of the items has learnt `skus`: an order
    naming a SKU its service has not learnt yet would be refused."""
    operations = OPERATIONS.headers(state_dir)
    replicas: dict[str, httpx.AsyncClient] = {
        service: httpx.AsyncClient(base_url=stack.url(service), timeout=30, headers=operations)
        for service in sorted(catalog.ITEM_REPLICAS)
    }
    try:
        await catalog.wait_until_replicated(replicas, skus)
    finally:
        for client in replicas.values():
            await client.aclose()


def order_body(
    tag: str, items: list[catalog.Item], batch: int = 1
) -> Callable[[int], dict[str, Any]]:
    """The n-th order; the orders of one request (`batch` of them) share a channel."""

    def body(n: int) -> dict[str, Any]:
        item = items[n % len(items)]
        return {
            "channel": CHANNELS[(n // batch) % len(CHANNELS)],
            "external_id": f"{tag}-{n}",
            "customer": {"customer_id": f"bench-{n % 1000}", "email": "bench@example.com"},
            "currency": "USD",
            "lines": [{"sku": item.sku, "quantity": 1, "unit_price": str(item.price)}],
            "shipping": {
                "amount": "4.99",
                "address": {
                    "name": "Bench",
                    "line1": "1 Load St",
                    "city": "Austin",
                    "postal_code": "73301",
                    "country": "US",
                },
            },
            "payment": {"method": "card", "token": "tok_visa"},
        }

    return body


def order_client(service: str, headers: Mapping[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.url(service), timeout=60, headers=headers)
