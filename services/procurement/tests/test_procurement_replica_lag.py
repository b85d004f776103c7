"""Service tests: policies and purchase orders naming an item or a location the replicas of
inventory's data have not learnt yet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from keel_procurement.models import PurchaseOrder
from procurement_harness import ORDER, Procurement, procurement_running

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

ITEMS, LOCATIONS = "inventory.item.v1", "inventory.location.v1"
POLICY = {"supplier_id": "ACME", "service_level": "0.95", "min_order_qty": 10, "pack_size": 5}


@asynccontextmanager
async def lagging(tmp_path: Path, **lags: int | None) -> AsyncIterator[Procurement]:
    """Procurement whose replicas of items and locations are this many messages behind (None:
    the broker could not be asked)."""
    topics = {"items": ITEMS, "locations": LOCATIONS}
    by_topic = {topics[name]: lag for name, lag in lags.items()}
    async with procurement_running(tmp_path, lags=by_topic) as procurement:
        yield procurement


async def put_policy(procurement: Procurement, sku: str, location_id: str) -> httpx.Response:
    return await procurement.client.put(f"/v1/policies/{sku}/{location_id}", json=POLICY)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_policy_for_an_item_not_arrived_yet_is_a_503_naming_the_lag(
    tmp_path: Path,
) -> None:
    async with lagging(tmp_path, items=5) as procurement:
        response = await put_policy(procurement, "NEW-1", "WH-EAST")

    body = problem(response, 503)
    assert response.headers["Retry-After"] == "1"
    assert body["detail"] == (
        "sku NEW-1 is not known here yet: this service's copy of inventory.item.v1 is "
        "5 messages behind; retry in 1s"
    )
    assert body["errors"][0]["field"] == "sku"


async def test_a_policy_at_a_location_not_arrived_yet_is_a_503(tmp_path: Path) -> None:
    async with lagging(tmp_path, locations=None) as procurement:  # the broker could not be asked
        body = problem(await put_policy(procurement, "MUG-1", "WH-NEW"), 503)

    assert body["detail"].startswith("location WH-NEW is not known here yet")
    assert "could not be asked" in body["detail"]
    assert body["errors"][0]["field"] == "location_id"


async def test_unknown_references_are_a_422_once_the_replicas_caught_up(tmp_path: Path) -> None:
    async with lagging(tmp_path, items=0, locations=0) as procurement:
        sku = problem(await put_policy(procurement, "NOPE-1", "WH-EAST"), 422)
        location = problem(await put_policy(procurement, "MUG-1", "WH-NOPE"), 422)

    assert sku["errors"] == [{"field": "sku", "message": "unknown sku NOPE-1"}]
    assert location["errors"] == [{"field": "location_id", "message": "unknown location WH-NOPE"}]


async def test_a_purchase_order_line_of_an_item_not_arrived_yet_is_a_503(tmp_path: Path) -> None:
    body = {**ORDER, "lines": [*ORDER["lines"], {"sku": "NEW-2", "quantity": 5, "unit_cost": "1"}]}
    async with lagging(tmp_path, items=1) as procurement:
        response = await procurement.client.post("/v1/purchase-orders", json=body)

        refused = problem(response, 503)
        assert refused["errors"][0]["field"] == "lines.2.sku"
        assert refused["lag"] == 1
        async with procurement.db.transaction() as session:
            assert (await session.exec(select(PurchaseOrder))).all() == []  # nothing drafted


async def test_a_lagging_replica_does_not_hold_up_known_references(tmp_path: Path) -> None:
    async with lagging(tmp_path, items=9, locations=9) as procurement:
        assert (await put_policy(procurement, "MUG-1", "WH-EAST")).status_code == 200
        assert (await procurement.client.post("/v1/purchase-orders", json=ORDER)).status_code == 201
