"""The chaos run's traffic: shoppers placing orders at a steady rate, warehouses shipping them.

Both keep going through faults as real partners would: a request that finds a service down is
sent again later with the same Idempotency-Key, until it is answered or the run gives up on it.
An order counts as accepted only once the intake answered 202.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import httpx

from keel_cli.demo import shoppers
from keel_cli.demo.catalog import Item
from keel_cli.demo.warehouses import _advance_shipments

# How long one order is offered before the shopper gives up (services restart within seconds).
PATIENCE_SECONDS = 90.0
MOVING = frozenset({"released", "partially_shipped", "shipped"})
SETTLED = frozenset({"delivered", "closed", "rejected", "cancelled", "backordered", "on_hold"})


@dataclass
class Traffic:
    offered: int = 0
    accepted: list[str] = field(default_factory=list)  # order ids answered 202
    refused: list[str] = field(default_factory=list)  # 4xx answers (bad input would be a bug)
    gave_up: int = 0  # never answered within PATIENCE_SECONDS
    statuses: dict[str, str] = field(default_factory=dict)


async def offer_orders(
    channels: Mapping[str, httpx.AsyncClient],
    run: str,
    catalog: list[Item],
    rng: random.Random,
    *,
    rate: float,
    duration: float,
    traffic: Traffic,
) -> None:
    """Offer `rate` orders a second for `duration` seconds, each by its channel (signing its
    requests); waits for every one to be answered (or given up on) before returning."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    pending: list[asyncio.Task[None]] = []
    n = 0
    while loop.time() - started < duration:
        body = shoppers.order_body(run, n, catalog, rng)
        traffic.offered += 1
        channel = channels[str(body["channel"])]
        pending.append(asyncio.create_task(_place(channel, body, traffic)))
        n += 1
        await asyncio.sleep(max(0.0, started + n / rate - loop.time()))
    await asyncio.gather(*pending)


async def _place(channel: httpx.AsyncClient, body: dict[str, object], traffic: Traffic) -> None:
    key = str(body["external_id"])

    async def post() -> httpx.Response:
        return await channel.post("/v1/orders", json=body, headers={"Idempotency-Key": key})

    response = await _patiently(post)
    if response is None:
        traffic.gave_up += 1
    elif response.status_code == 202:
        traffic.accepted.append(response.json()["order_id"])
    else:
        traffic.refused.append(f"{key}: {response.status_code} {response.text[:200]}")


async def _patiently(
    call: Callable[[], Awaitable[httpx.Response]], patience: float = PATIENCE_SECONDS
) -> httpx.Response | None:
    """The first answer that is not a server's failure (5xx, 409 still in flight), or None."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while loop.time() < deadline:
        try:
            response = await call()
            if response.status_code < 500 and response.status_code != 409:
                return response
        except httpx.HTTPError:
            pass  # the service is down or restarting
        await asyncio.sleep(1.0)
    return None


@dataclass(frozen=True)
class Warehouses:
    """Where the shipments are read (a warehouse person's client of fulfillment), and each
    location's system, which reports its shipments' events signed."""

    reader: httpx.AsyncClient
    systems: Mapping[str, httpx.AsyncClient]


async def ship_orders(order: httpx.AsyncClient, warehouses: Warehouses, traffic: Traffic) -> None:
    """Warehouses: move every accepted order's shipments along, round after round, until
    cancelled; what each order's status was last seen as is kept in `traffic.statuses`."""
    while True:
        await ship_round(order, warehouses, traffic)
        await asyncio.sleep(1.0)


async def ship_round(order: httpx.AsyncClient, warehouses: Warehouses, traffic: Traffic) -> int:
    """One pass over the orders not yet settled; returns how many are still open."""
    open_orders = [o for o in traffic.accepted if traffic.statuses.get(o) not in SETTLED]
    limit = asyncio.Semaphore(16)

    async def step(order_id: str) -> None:
        async with limit:
            try:
                status = (await order.get(f"/v1/orders/{order_id}")).json()["status"]
                traffic.statuses[order_id] = status
                if status in MOVING:
                    await _advance_shipments(warehouses.reader, order_id, warehouses.systems)
            except (httpx.HTTPError, KeyError, ValueError):
                pass  # a service is down: the next round tries again

    await asyncio.gather(*(step(o) for o in open_orders))
    return sum(1 for o in traffic.accepted if traffic.statuses.get(o) not in SETTLED)
