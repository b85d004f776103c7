"""The demo's customers: three channels placing orders; a few cancel, a few cards decline."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from keel_cli.demo.catalog import Item

CHANNELS = ("web", "marketplace-a", "marketplace-b")
CITIES = (
    ("New York", "10001"),
    ("Chicago", "60601"),
    ("Austin", "73301"),
    ("Seattle", "98101"),
    ("Miami", "33101"),
)
LINES_PER_ORDER = (1, 1, 1, 2, 2, 3)  # drawn uniformly: mostly single-line orders
UNITS_PER_LINE = (1, 1, 1, 2, 3)
# What an order asks for on average; the demo's sales history is drawn around it.
UNITS_PER_ORDER = (sum(LINES_PER_ORDER) / len(LINES_PER_ORDER)) * (
    sum(UNITS_PER_LINE) / len(UNITS_PER_LINE)
)


@dataclass
class Placed:
    order_id: str
    channel: str
    placed_at: float
    cancel: bool
    statuses: list[str] = field(default_factory=list)


def order_body(run: str, n: int, catalog: list[Item], rng: random.Random) -> dict[str, object]:
    city, postal = rng.choice(CITIES)
    lines = {}
    for item in rng.sample(catalog, k=rng.choice(LINES_PER_ORDER)):
        lines[item.sku] = {
            "sku": item.sku,
            "quantity": rng.choice(UNITS_PER_LINE),
            "unit_price": str(item.price),
        }
    roll = rng.random()
    token = "tok_declined" if roll < 0.03 else "tok_review" if roll < 0.04 else "tok_visa"
    customer = rng.randrange(1, 400)
    return {
        "channel": CHANNELS[n % len(CHANNELS)],
        "external_id": f"{run}-{n:06d}",
        "customer": {"customer_id": f"{run}-C{customer}", "email": f"c{customer}@example.com"},
        "currency": "USD",
        "lines": list(lines.values()),
        "shipping": {
            "amount": rng.choice(("0.00", "4.99", "7.99")),
            "address": {
                "name": f"Customer {customer}",
                "line1": f"{n} Market St",
                "city": city,
                "postal_code": postal,
                "country": "US",
            },
        },
        "payment": {"method": "card", "token": token},
    }


async def place_all(
    order: httpx.AsyncClient,
    run: str,
    count: int,
    catalog: list[Item],
    rng: random.Random,
    on_placed: Callable[[], None],
    *,
    concurrency: int = 16,
    channels: Mapping[str, httpx.AsyncClient] | None = None,
) -> list[Placed]:
    """Place `count` orders, `concurrency` at a time, as marketplaces would (with retries'
    Idempotency-Keys); about 3 in 100 customers will cancel. Each order goes through its
    channel's own client in `channels` (signing as the channel) when given, else `order`'s."""
    bodies = [order_body(run, n, catalog, rng) for n in range(count)]
    cancels = [rng.random() < 0.03 for _ in range(count)]
    limit = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()

    async def place(body: dict[str, object], cancel: bool) -> Placed:
        async with limit:
            channel = channels[str(body["channel"])] if channels else order
            response = await channel.post(
                "/v1/orders", json=body, headers={"Idempotency-Key": str(body["external_id"])}
            )
        if response.status_code != 202:
            raise RuntimeError(f"order refused {response.status_code}: {response.text[:300]}")
        placed = Placed(
            order_id=response.json()["order_id"],
            channel=str(body["channel"]),
            placed_at=loop.time(),
            cancel=cancel,
        )
        on_placed()
        return placed

    return list(await asyncio.gather(*(place(b, c) for b, c in zip(bodies, cancels, strict=True))))
