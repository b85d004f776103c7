"""Seeds the demo's catalog: warehouses in three regions, 200 SKUs, stock with some SKUs scarce."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from keel_contracts import topic_for_message
from keel_contracts.events import ItemRegistered, LocationRegistered

WAREHOUSES = (
    ("WH-EAST", "East coast DC", "10001"),
    ("WH-CENTRAL", "Central DC", "60601"),
    ("WH-WEST", "West coast DC", "94107"),
)
# The services that keep a copy of inventory's items, and the topics of inventory's master data.
ITEM_REPLICAS = frozenset(topic_for_message(ItemRegistered).consumers)
MASTER_DATA = (topic_for_message(ItemRegistered).name, topic_for_message(LocationRegistered).name)


@dataclass(frozen=True)
class Item:
    sku: str
    unit_cost: Decimal
    price: Decimal
    scarce: bool
    index: int  # its place in the catalog (suppliers are dealt out by it)


@dataclass(frozen=True)
class Holding:
    """Opening stock of one SKU at one warehouse."""

    sku: str
    sku_index: int
    location_id: str
    quantity: int
    holders: int  # how many warehouses hold the SKU (they share its demand)


def items(run: str, count: int, rng: random.Random) -> list[Item]:
    """`count` SKUs; one in ten is scarce (a handful of units for the whole day)."""
    catalog = []
    for n in range(1, count + 1):
        cost = Decimal(rng.randrange(200, 6000)) / 100
        markup = Decimal(rng.choice(("1.6", "1.9", "2.2", "2.5")))
        catalog.append(
            Item(
                sku=f"{run}-{n:04d}",
                unit_cost=cost,
                price=(cost * markup).quantize(Decimal("0.01")),
                scarce=n % 10 == 0,
                index=n,
            )
        )
    return catalog


async def seed(
    operations: httpx.AsyncClient,
    warehouse: httpx.AsyncClient,
    catalog: list[Item],
    rng: random.Random,
    *,
    units: tuple[int, int] = (20, 60),
) -> list[Holding]:
    """Register warehouses and items (`operations`, an operations person at the inventory
    service), receive opening stock (`warehouse`, a warehouse person there: `units` per warehouse
    holding an item, a handful for scarce ones); returns where the stock went."""
    await register_warehouses(operations)
    limit = asyncio.Semaphore(16)

    async def stock(item: Item) -> list[Holding]:
        async with limit:
            await register_item(operations, item, name=f"Demo item {item.sku}")
            received = []
            holders = rng.sample(WAREHOUSES, k=1 if item.scarce else rng.randint(1, 3))
            for location_id, _name, _postal in holders:
                quantity = rng.randint(1, 3) if item.scarce else rng.randint(units[0], units[1])
                await receive(
                    warehouse,
                    item,
                    location_id,
                    quantity,
                    reference="opening stock",
                    idempotency_key=f"open-{item.sku}-{location_id}",
                )
                received.append(Holding(item.sku, item.index, location_id, quantity, len(holders)))
            return received

    return [h for held in await asyncio.gather(*(stock(i) for i in catalog)) for h in held]


async def register_warehouses(operations: httpx.AsyncClient) -> None:
    """Register the `WAREHOUSES` (`operations`, an operations person at the inventory service);
    one already registered is left as it is."""
    for location_id, name, postal_code in WAREHOUSES:
        response = await operations.post(
            "/v1/locations",
            json={
                "location_id": location_id,
                "name": name,
                "kind": "warehouse",
                "country": "US",
                "postal_code": postal_code,
            },
        )
        expect(response, 201, 409)


async def register_item(operations: httpx.AsyncClient, item: Item, *, name: str) -> None:
    """Register `item` under `name` (`operations`, an operations person at the inventory
    service); one already registered is left as it is."""
    expect(
        await operations.post(
            "/v1/items",
            json={
                "sku": item.sku,
                "name": name,
                "unit_cost": str(item.unit_cost),
                "currency": "USD",
            },
        ),
        201,
        409,
    )


async def receive(
    warehouse: httpx.AsyncClient,
    item: Item,
    location_id: str,
    quantity: int,
    *,
    reference: str,
    idempotency_key: str,
) -> None:
    """Receive `quantity` units of `item` at `location_id`, at the item's unit cost
    (`warehouse`, a warehouse person at the inventory service); `idempotency_key` keeps a
    repeated receipt from being booked twice."""
    expect(
        await warehouse.post(
            "/v1/receipts",
            json={
                "sku": item.sku,
                "location_id": location_id,
                "quantity": quantity,
                "unit_cost": str(item.unit_cost),
                "reference": reference,
            },
            headers={"Idempotency-Key": idempotency_key},
        ),
        201,
    )


async def wait_until_replicated(
    services: Mapping[str, httpx.AsyncClient], skus: list[str], patience: float = 60
) -> None:
    """Wait until every service that keeps a copy of inventory's items has every SKU, and has
    caught up with inventory's items and locations: a request naming one it has not learnt
    would be answered 503 (retry) at best. Items reach a service over several partitions, so
    the last one seeded proves nothing about the rest; the SKUs are asked one by one because a
    caught-up topic proves nothing about what inventory has not published yet."""
    deadline = asyncio.get_running_loop().time() + patience

    async def learnt(service: str, client: httpx.AsyncClient) -> None:
        for sku in skus:
            while (await client.get(f"/v1/replicas/items/{sku}")).status_code != 200:
                _give_up_after(deadline, f"the {service} service never learnt of {sku}")
                await asyncio.sleep(0.25)
        while lagging := _master_data_lag((await client.get("/v1/replicas/status")).json()):
            _give_up_after(deadline, f"the {service} service stays behind on {lagging}")
            await asyncio.sleep(0.25)

    await asyncio.gather(
        *(learnt(s, client) for s, client in services.items() if s in ITEM_REPLICAS)
    )


def _master_data_lag(status: dict[str, Any]) -> dict[str, int | None]:
    """The master-data topics a service has not applied to the end (None: it cannot tell)."""
    lag: dict[str, int | None] = status.get("lag", {})
    return {topic: lag[topic] for topic in MASTER_DATA if topic in lag and lag[topic] != 0}


def _give_up_after(deadline: float, what: str) -> None:
    if asyncio.get_running_loop().time() > deadline:
        raise TimeoutError(what)


def expect(response: httpx.Response, *statuses: int) -> None:
    if response.status_code not in statuses:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:300]}"
        )
