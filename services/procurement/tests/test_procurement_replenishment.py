"""Service tests: the demand signal from stock events and replenishment runs that suggest
orders (with the numbers that explain them) and draft purchase orders."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from keel_contracts import Envelope, Message, topic_for_message
from keel_contracts.events import StockIssued, StockReceived
from keel_contracts.values import Money
from keel_procurement.models import PurchaseOrder
from procurement_harness import Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

TODAY = datetime.now(UTC).date()
COST = Money(amount=Decimal("2.50"), currency="USD")


def days_ago(days: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days), time(12), tzinfo=UTC)


async def publish_at(procurement: Procurement, message: Message, at: datetime) -> None:
    envelope = Envelope.wrap(message, source="inventory", correlation_id="t")
    envelope = envelope.model_copy(update={"occurred_at": at})
    await procurement.broker.publish(envelope.to_bytes(), topic_for_message(type(message)).name)


async def issue(procurement: Procurement, sku: str, units: int, days: int) -> None:
    message = StockIssued(
        order_id="o",
        shipment_id="s",
        location_id="WH-EAST",
        sku=sku,
        quantity=units,
        unit_cost=COST,
    )
    await publish_at(procurement, message, days_ago(days))


async def receive(procurement: Procurement, sku: str, units: int) -> None:
    message = StockReceived(
        movement_id="m",
        sku=sku,
        location_id="WH-EAST",
        quantity=units,
        unit_cost=COST,
        reference="opening",
    )
    await publish_at(procurement, message, days_ago(0))


async def mug_history(procurement: Procurement) -> None:
    """10 units three days ago, 5 + 15 two days ago, none yesterday, 7 today."""
    await issue(procurement, "MUG-1", 10, 3)
    await issue(procurement, "MUG-1", 5, 2)
    await issue(procurement, "MUG-1", 15, 2)
    await issue(procurement, "MUG-1", 7, 0)


async def put_policy(procurement: Procurement, sku: str) -> None:
    body = {"supplier_id": "ACME", "service_level": "0.95", "min_order_qty": 50, "pack_size": 12}
    response = await procurement.client.put(f"/v1/policies/{sku}/WH-EAST", json=body)
    assert response.status_code == 200, response.text


async def run(procurement: Procurement) -> dict[str, Any]:
    response = await procurement.client.post("/v1/replenishment-runs")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def numbers(suggestion: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "mean_daily_demand",
        "demand_sigma",
        "lead_time_days",
        "z",
        "reorder_point",
        "order_up_to",
    )
    explained = {key: Decimal(suggestion[key]) for key in keys}
    for key in ("lead_time_source", "on_hand", "on_order", "position", "raw_quantity", "quantity"):
        explained[key] = suggestion[key]
    return explained


async def test_demand_is_an_ewma_of_daily_issues_with_empty_days_as_zero(
    procurement: Procurement,
) -> None:
    await receive(procurement, "MUG-1", 100)
    await mug_history(procurement)

    response = await procurement.client.get("/v1/demand/MUG-1/WH-EAST")

    assert response.status_code == 200, response.text
    demand = response.json()
    # day 1: mean 10, var 0; day 2 (20): d=10, mean 13, var 0.7*(0+0.3*100)=21;
    # day 3 (0): d=-13, mean 9.1, var 0.7*(21+0.3*169)=50.19; today's 7 still open.
    assert Decimal(demand["mean_daily_demand"]) == Decimal("9.1")
    assert Decimal(demand["variance"]) == Decimal("50.19")
    assert demand["days_observed"] == 3
    assert demand["today_quantity"] == 7
    assert demand["on_hand"] == 100 - 37


async def test_run_below_reorder_point_suggests_order_up_to_and_drafts_one_purchase_order(
    procurement: Procurement,
) -> None:
    await receive(procurement, "MUG-1", 40)
    await mug_history(procurement)
    await issue(procurement, "PLATE-2", 2, 1)
    await put_policy(procurement, "MUG-1")
    await put_policy(procurement, "PLATE-2")

    result = await run(procurement)

    by_sku = {s["sku"]: s for s in result["suggestions"]}
    assert numbers(by_sku["MUG-1"]) == {
        "mean_daily_demand": Decimal("9.1"),
        "demand_sigma": Decimal("7.0845"),
        "lead_time_days": Decimal(7),
        "lead_time_source": "stated",
        "z": Decimal("1.6449"),
        # 9.1 x 7 + 1.6449 x 7.0845 x sqrt(7); + 9.1 x 7 review days
        "reorder_point": Decimal("94.5317"),
        "order_up_to": Decimal("158.2317"),
        "on_hand": 3,
        "on_order": 0,
        "position": 3,
        "raw_quantity": 156,
        "quantity": 156,
    }
    # 2 a day: ROP 14, up to 28; position -2 -> 30, raised to the minimum 50, packs of 12 -> 60
    plate = numbers(by_sku["PLATE-2"])
    assert (plate["reorder_point"], plate["order_up_to"], plate["position"]) == (14, 28, -2)
    assert (plate["raw_quantity"], plate["quantity"]) == (30, 60)

    [po_id] = result["purchase_order_ids"]
    assert {s["po_id"] for s in result["suggestions"]} == {po_id}
    po = await procurement.po(po_id)
    assert (po["status"], po["supplier_id"], po["location_id"]) == ("draft", "ACME", "WH-EAST")
    assert sorted((ln["sku"], ln["quantity"], ln["unit_cost"]) for ln in po["lines"]) == [
        ("MUG-1", 156, "2.50"),
        ("PLATE-2", 60, "4.1250"),
    ]
    listed = (await procurement.client.get("/v1/suggestions?status=ordered")).json()
    assert {s["suggestion_id"] for s in listed["items"]} == {
        s["suggestion_id"] for s in result["suggestions"]
    }
    # the drafted units are on order now: a second run suggests nothing more
    assert (await run(procurement))["suggestions"] == []


async def test_run_above_reorder_point_suggests_nothing(procurement: Procurement) -> None:
    await receive(procurement, "MUG-1", 1000)
    await mug_history(procurement)
    await put_policy(procurement, "MUG-1")

    result = await run(procurement)

    assert result == {
        "run_id": result["run_id"],
        "suggestions": [],
        "purchase_order_ids": [],
    }
    assert (await procurement.client.get("/v1/suggestions")).json() == {
        "items": [],
        "next_cursor": None,
    }


async def test_run_uses_the_measured_lead_time_over_the_stated_one(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    async with procurement.runtime.db.transaction() as session:
        po = await session.get(PurchaseOrder, po_id)
        assert po is not None
        po.sent_at = datetime.now(UTC) - timedelta(days=10)
        session.add(po)
    await procurement.act(
        po_id,
        "receipts",
        {"lines": [{"sku": "MUG-1", "quantity": 100}, {"sku": "PLATE-2", "quantity": 40}]},
    )
    await receive(procurement, "MUG-1", 40)
    await mug_history(procurement)
    await put_policy(procurement, "MUG-1")

    [suggestion] = (await run(procurement))["suggestions"]

    assert (Decimal(suggestion["lead_time_days"]), suggestion["lead_time_source"]) == (
        Decimal(10),
        "measured",
    )
    assert Decimal(suggestion["reorder_point"]) == Decimal("127.8510")
    assert (suggestion["raw_quantity"], suggestion["quantity"]) == (189, 192)
