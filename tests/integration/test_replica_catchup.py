"""A SKU inventory has just created, asked of procurement before procurement's copy of the item
master has it: 503 with Retry-After while the copy is behind the topic, then the answer for
real (accepted, or 422 for a SKU that truly does not exist) once it has caught up.

Procurement's consumer is held behind deterministically: a test transaction locks its
`item_replica` table against writes (reads go on), so the batch carrying the new item cannot
commit, and neither can its offsets.
"""

import uuid
from typing import Any

import asyncpg
import pytest

from tests.integration.support import (
    ServiceProcess,
    StartService,
    eventually,
    new_sku,
    people,
    register_item,
    register_location,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

ITEMS = "inventory.item.v1"
SUPPLIER = {"supplier_id": "SUP-CATCHUP", "name": "Catch-up Supply", "lead_time_days": 3}
POLICY = {
    "supplier_id": "SUP-CATCHUP",
    "service_level": "0.95",
    "min_order_qty": 10,
    "pack_size": 5,
}


def _items_lag(procurement: ServiceProcess) -> int | None:
    lag: int | None = procurement.get("/v1/replicas/status").json()["lag"][ITEMS]
    return lag


async def test_a_sku_not_replicated_yet_is_a_503_until_procurement_catches_up(
    start_service: StartService,
) -> None:
    inventory = start_service("inventory")
    procurement = start_service("procurement")
    buyer = procurement.as_person(people.BUYER)
    location = f"WH-{uuid.uuid4().hex[:6].upper()}"
    known, fresh = new_sku(), new_sku()
    register_location(inventory, location, new=True)
    register_item(inventory, known)
    assert buyer.post("/v1/suppliers", SUPPLIER).status_code == 201

    def put_policy(sku: str) -> Any:
        return buyer.put(f"/v1/policies/{sku}/{location}", POLICY)

    eventually(lambda: put_policy(known).status_code == 200, what="procurement to learn the item")

    dsn = procurement.env["KEEL_PROCUREMENT_DATABASE_URL"].replace("+asyncpg", "")
    holder = await asyncpg.connect(dsn)
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE item_replica IN EXCLUSIVE MODE")
            register_item(inventory, fresh)
            eventually(
                lambda: (_items_lag(procurement) or 0) >= 1,
                what="procurement's copy of the items to fall behind",
            )

            behind = put_policy(fresh)

            assert behind.status_code == 503, behind.text
            assert behind.headers["Retry-After"] == "1"
            problem = behind.json()
            assert problem["detail"].startswith(f"sku {fresh} is not known here yet")
            assert ITEMS in problem["detail"]
            assert problem["lag"] >= 1
    finally:
        await holder.close()  # the lock goes with the transaction: the consumer moves on

    caught_up = eventually(
        lambda: put_policy(fresh).status_code == 200, what="the policy once caught up"
    )
    assert caught_up

    missing = new_sku()
    refused = eventually(
        lambda: (r := put_policy(missing)).status_code == 422 and r,
        what="a 422 for a SKU inventory never created",
    )
    assert refused.json()["errors"] == [{"field": "sku", "message": f"unknown sku {missing}"}]
