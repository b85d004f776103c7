"""Service tests of inventory's KPIs over time: units reserved, and the oversold units its
periodic check counts and keeps."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, update

from inventory_harness import Inventory, reserve
from keel_contracts.roles import Role
from keel_inventory.kpi_report import record_oversell_check
from keel_inventory.models import StockBalance

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def kpis(inventory: Inventory) -> dict[str, Any]:
    response = await inventory.client.get("/v1/kpis", params={"bucket": "hour"})
    assert response.status_code == 200, response.text
    return {s["name"]: s["points"][-1]["value"] for s in response.json()["series"]}


async def check(inventory: Inventory) -> None:
    async with inventory.context.unit_of_work() as work:
        await record_oversell_check(work)


async def test_units_reserved_and_an_oversell_check_that_found_none(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 10)
    await inventory.publish(reserve("o-1", ("MUG", 3)))
    await inventory.publish(reserve("o-2", ("MUG", 1)))
    before = await kpis(inventory)
    assert before["units_reserved"] == "4"
    assert before["oversold_units"] is None  # no check has run
    await check(inventory)
    after = await kpis(inventory)
    assert (after["oversold_units"], after["oversell_rate"]) == ("0", "0.0")


async def test_the_check_counts_units_reserved_beyond_sellable(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 4)
    await inventory.publish(reserve("o-1", ("MUG", 4)))
    # What the reservations' locks make impossible, written straight into the projection.
    async with inventory.db.transaction() as session:
        await session.exec(
            update(StockBalance).where(col(StockBalance.state) == "sellable").values(quantity=3)
        )
    await check(inventory)
    found = await kpis(inventory)
    assert (found["oversold_units"], found["oversell_rate"]) == ("1", "25.0")


async def test_inventory_accuracy_is_the_share_of_lines_counted_within_tolerance(
    inventory: Inventory,
) -> None:
    assert (await kpis(inventory))["inventory_accuracy"] is None  # nothing counted yet
    await inventory.receive("MUG", "WH-A", 100)
    await inventory.receive("PLATE", "WH-A", 100)
    warehouse = ("wes", Role.WAREHOUSE)
    made = await inventory.act(
        "/v1/counts", warehouse, {"location_id": "WH-A", "skus": ["MUG", "PLATE"]}, 201
    )
    lines = [{"sku": "MUG", "counted": 99}, {"sku": "PLATE", "counted": 80}]
    await inventory.act(f"/v1/counts/{made['count_id']}/results", warehouse, {"lines": lines})

    assert (await kpis(inventory))["inventory_accuracy"] == "50.0"
