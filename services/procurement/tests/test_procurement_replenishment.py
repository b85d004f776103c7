"""Service tests: the demand signal from stock events and replenishment runs that suggest
orders (with the numbers that explain them) and draft purchase orders."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from keel_contracts.events import StockIssued, StockReceived
from keel_contracts.values import Money
from keel_kit.testing import statements_run
from keel_procurement import replenishment
from procurement_harness import Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

TODAY = datetime.now(UTC).date()
COST = Money(amount=Decimal("2.50"), currency="USD")


def days_ago(days: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days), time(12), tzinfo=UTC)


async def issue(procurement: Procurement, sku: str, units: int, days: int) -> None:
    message = StockIssued(
        order_id="o",
        shipment_id="s",
        location_id="WH-EAST",
        sku=sku,
        quantity=units,
        unit_cost=COST,
    )
    await procurement.publish(message, at=days_ago(days))


async def receive(procurement: Procurement, sku: str, units: int) -> None:
    message = StockReceived(
        movement_id="m",
        sku=sku,
        location_id="WH-EAST",
        quantity=units,
        unit_cost=COST,
        reference="opening",
    )
    await procurement.publish(message, at=days_ago(0))


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


async def run_suggestions(procurement: Procurement) -> list[dict[str, Any]]:
    """The suggestions of a run asked for now."""
    return await procurement.suggestions_of(await procurement.run())


def numbers(suggestion: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "mean_daily_demand",
        "demand_sigma",
        "lead_time_days",
        "z",
        "safety_stock",
        "reorder_point",
        "order_up_to",
    )
    explained: dict[str, Any] = {key: Decimal(suggestion[key]) for key in keys}
    for key in ("lead_time_source", "on_hand", "on_order", "position", "raw_quantity", "quantity"):
        explained[key] = suggestion[key]
    sigma = suggestion["lead_time_sigma"]
    explained["lead_time_sigma"] = None if sigma is None else Decimal(sigma)
    return explained


async def delivered(procurement: Procurement, *, sent_days_ago: int) -> None:
    """A purchase order sent `sent_days_ago` whose goods all arrive now."""
    po_id = await procurement.sent_order()
    await procurement.sent_days_ago(po_id, sent_days_ago)
    lines = [{"sku": "MUG-1", "quantity": 100}, {"sku": "PLATE-2", "quantity": 40}]
    await procurement.act(po_id, "receipts", {"lines": lines})


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


async def test_a_batch_of_movements_reads_its_signals_once_and_counts_as_one_by_one(
    procurement: Procurement,
) -> None:
    def movements(sku: str) -> list[tuple[StockReceived | StockIssued, datetime]]:
        received = StockReceived(
            movement_id=f"m-{sku}",
            sku=sku,
            location_id="WH-EAST",
            quantity=100,
            unit_cost=COST,
            reference="opening",
        )
        issued = [
            StockIssued(
                order_id=f"o-{sku}-{n}",
                shipment_id=f"s-{sku}-{n}",
                location_id="WH-EAST",
                sku=sku,
                quantity=units,
                unit_cost=COST,
            )
            for n, units in enumerate((10, 5, 15, 7))
        ]
        return [(received, days_ago(0)), *zip(issued, map(days_ago, (3, 2, 2, 0)), strict=True)]

    skus = [f"CUP-{n}" for n in range(12)]
    with statements_run(procurement.db) as statements:
        applied = await procurement.apply_at(*[m for sku in skus for m in movements(sku)])
    await mug_history(procurement)  # the same issues, one message at a time
    await receive(procurement, "MUG-1", 100)

    assert applied == len(skus) * 5
    signal_reads = [s for s in statements if s.startswith("SELECT") and "demand_signal" in s]
    assert len(signal_reads) == 1, signal_reads
    one_by_one = (await procurement.client.get("/v1/demand/MUG-1/WH-EAST")).json()
    for sku in skus:
        in_a_batch = (await procurement.client.get(f"/v1/demand/{sku}/WH-EAST")).json()
        assert {**in_a_batch, "sku": "MUG-1"} == one_by_one


async def test_run_below_reorder_point_suggests_order_up_to_and_drafts_one_purchase_order(
    procurement: Procurement,
) -> None:
    await receive(procurement, "MUG-1", 40)
    await mug_history(procurement)
    await issue(procurement, "PLATE-2", 2, 1)
    await put_policy(procurement, "MUG-1")
    await put_policy(procurement, "PLATE-2")

    result = await procurement.run()

    assert (result["suggestions_made"], result["purchase_orders_drafted"]) == (2, 1)
    suggestions = await procurement.suggestions_of(result)
    by_sku = {s["sku"]: s for s in suggestions}
    assert numbers(by_sku["MUG-1"]) == {
        "mean_daily_demand": Decimal("9.1"),
        "demand_sigma": Decimal("7.0845"),
        "lead_time_days": Decimal(7),
        "lead_time_source": "stated",
        "lead_time_sigma": None,
        "z": Decimal("1.6449"),
        # 1.6449 x 7.0845 x sqrt(7): a stated lead time is taken as fixed
        "safety_stock": Decimal("30.8317"),
        # 9.1 x 7 + the safety stock; + 9.1 x 7 review days
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

    [po_id] = {s["po_id"] for s in suggestions}
    po = await procurement.po(po_id)
    assert (po["status"], po["supplier_id"], po["location_id"]) == ("draft", "ACME", "WH-EAST")
    assert sorted((ln["sku"], ln["quantity"], ln["unit_cost"]) for ln in po["lines"]) == [
        ("MUG-1", 156, "2.50"),
        ("PLATE-2", 60, "4.125"),
    ]
    listed = (await procurement.client.get("/v1/suggestions?status=ordered")).json()
    assert {s["suggestion_id"] for s in listed["items"]} == {
        s["suggestion_id"] for s in suggestions
    }
    # the drafted units are on order now: a second run suggests nothing more
    again = await procurement.run()
    assert (again["suggestions_made"], await procurement.suggestions_of(again)) == (0, [])


async def test_the_scheduled_run_drafts_as_the_one_asked_for_does(
    procurement: Procurement,
) -> None:
    await receive(procurement, "MUG-1", 40)
    await mug_history(procurement)
    await put_policy(procurement, "MUG-1")

    async with procurement.context.unit_of_work() as uow:
        await replenishment.scheduled_run(uow)

    [suggestion] = (await procurement.get_json("/v1/suggestions"))["items"]
    assert (suggestion["sku"], suggestion["quantity"]) == ("MUG-1", 156)
    po = await procurement.po(suggestion["po_id"])
    assert (po["status"], [ln["quantity"] for ln in po["lines"]]) == ("draft", [156])


async def test_suggestions_come_a_page_at_a_time_and_the_last_page_has_no_cursor(
    procurement: Procurement,
) -> None:
    await receive(procurement, "MUG-1", 40)
    await mug_history(procurement)
    await issue(procurement, "PLATE-2", 2, 1)
    await put_policy(procurement, "MUG-1")
    await put_policy(procurement, "PLATE-2")
    made = [s["suggestion_id"] for s in await run_suggestions(procurement)]

    first = await procurement.get_json("/v1/suggestions", limit=1)
    second = await procurement.get_json("/v1/suggestions", limit=1, cursor=first["next_cursor"])
    whole = await procurement.get_json("/v1/suggestions", limit=2)

    newest_first = sorted(made, reverse=True)
    assert [s["suggestion_id"] for s in first["items"] + second["items"]] == newest_first
    assert first["next_cursor"] is not None
    # a full page that is the last one says so: no cursor to an empty page
    assert second["next_cursor"] is None
    assert ([s["suggestion_id"] for s in whole["items"]], whole["next_cursor"]) == (
        newest_first,
        None,
    )


async def test_run_above_reorder_point_suggests_nothing(procurement: Procurement) -> None:
    await receive(procurement, "MUG-1", 1000)
    await mug_history(procurement)
    await put_policy(procurement, "MUG-1")

    result = await procurement.run()

    assert result == {
        "run_id": result["run_id"],
        "created_at": result["created_at"],
        "suggestions_made": 0,
        "purchase_orders_drafted": 0,
    }
    run_path = f"/v1/replenishment-runs/{result['run_id']}"
    assert await procurement.get_json(run_path) == result
    assert await procurement.get_json(f"{run_path}/suggestions") == {
        "items": [],
        "next_cursor": None,
    }
    assert (await procurement.client.get("/v1/suggestions")).json() == {
        "items": [],
        "next_cursor": None,
    }


async def test_run_uses_the_measured_lead_time_over_the_stated_one(
    procurement: Procurement,
) -> None:
    await delivered(procurement, sent_days_ago=10)
    await receive(procurement, "MUG-1", 40)
    await mug_history(procurement)
    await put_policy(procurement, "MUG-1")

    [suggestion] = await run_suggestions(procurement)

    explained = numbers(suggestion)
    assert (explained["lead_time_days"], explained["lead_time_source"]) == (Decimal(10), "measured")
    # one delivery has no spread: the lead time is taken as fixed, 1.6449 x 7.0845 x sqrt(10)
    assert (explained["lead_time_sigma"], explained["safety_stock"]) == (None, Decimal("36.8510"))
    assert explained["reorder_point"] == Decimal("127.8510")
    assert (suggestion["raw_quantity"], suggestion["quantity"]) == (189, 192)


async def test_safety_stock_includes_the_spread_of_the_measured_lead_time(
    procurement: Procurement,
) -> None:
    await delivered(procurement, sent_days_ago=8)
    await delivered(procurement, sent_days_ago=12)
    await receive(procurement, "MUG-1", 40)
    await mug_history(procurement)
    await put_policy(procurement, "MUG-1")

    [suggestion] = await run_suggestions(procurement)

    assert numbers(suggestion) == {
        "mean_daily_demand": Decimal("9.1"),
        "demand_sigma": Decimal("7.0845"),
        "lead_time_days": Decimal(10),  # (8 + 12) / 2
        "lead_time_source": "measured",
        "lead_time_sigma": Decimal("2.83"),  # sqrt((2^2 + 2^2) / (2 - 1))
        "z": Decimal("1.6449"),
        # 1.6449 x sqrt(10 x 7.0845^2 + 9.1^2 x 2.83^2): 56.1467, against 36.8510 for a fixed
        # lead time of 10 days
        "safety_stock": Decimal("56.1467"),
        "reorder_point": Decimal("147.1467"),  # 9.1 x 10 + the safety stock
        "order_up_to": Decimal("210.8467"),  # + 9.1 x 7 review days
        "on_hand": 3,
        "on_order": 0,
        "position": 3,
        "raw_quantity": 208,
        "quantity": 216,  # 18 packs of 12
    }
    listed = (await procurement.client.get("/v1/suggestions")).json()["items"]
    assert [(s["lead_time_sigma"], s["safety_stock"]) for s in listed] == [("2.8300", "56.1467")]


def history(*days: tuple[int, int]) -> dict[str, Any]:
    """One MUG-1 series at WH-EAST: (days ago, units) pairs."""
    sold = [{"date": (TODAY - timedelta(days=ago)).isoformat(), "quantity": n} for ago, n in days]
    return {"series": [{"sku": "MUG-1", "location_id": "WH-EAST", "days": sold}]}


async def test_imported_history_starts_the_signal_as_if_it_had_been_issued_here(
    procurement: Procurement,
) -> None:
    await issue(procurement, "MUG-1", 7, 0)  # today's sales are already being counted
    # 10 units four days ago, 20 three days ago, none given for two days ago (a day without
    # sales), and yesterday's 0 given explicitly: the same figures as the issued history above.
    imported = await procurement.client.post(
        "/v1/demand-history", json=history((3, 20), (4, 10), (1, 0))
    )

    assert imported.status_code == 201, imported.text
    assert imported.json() == {"series": 1, "days": 3}
    demand = (await procurement.client.get("/v1/demand/MUG-1/WH-EAST")).json()
    # day 1: 10; day 2 (20): mean 13, var 21; day 3 (0): mean 9.1, var 50.19;
    # day 4 (0): d=-9.1, mean 6.37, var 0.7*(50.19+0.3*82.81)=52.5231; today's 7 still open.
    assert Decimal(demand["mean_daily_demand"]) == Decimal("6.37")
    assert Decimal(demand["variance"]) == Decimal("52.5231")
    assert demand["days_observed"] == 4
    assert demand["today_quantity"] == 7


async def test_history_cannot_refold_a_signal_that_has_closed_days(
    procurement: Procurement,
) -> None:
    await issue(procurement, "MUG-1", 5, 2)
    await issue(procurement, "MUG-1", 3, 0)  # closes two days ago, and yesterday as empty

    refused = await procurement.client.post("/v1/demand-history", json=history((9, 4)))

    assert refused.status_code == 409, refused.text
    assert "MUG-1" in refused.json()["detail"]
    assert (await procurement.client.get("/v1/demand/MUG-1/WH-EAST")).json()["days_observed"] == 2


@pytest.mark.parametrize(
    ("days", "field"),
    [
        (((0, 3),), "history ends before today"),
        (((2, 3), (2, 4)), "each date may appear once"),
        (((401, 3), (1, 2)), "at most 400 days"),
    ],
)
async def test_history_for_today_twice_a_date_or_too_far_back_is_refused(
    procurement: Procurement, days: tuple[tuple[int, int], ...], field: str
) -> None:
    refused = await procurement.client.post("/v1/demand-history", json=history(*days))

    assert refused.status_code == 422, refused.text
    assert field in refused.text
    assert (await procurement.client.get("/v1/demand/MUG-1/WH-EAST")).json()["days_observed"] == 0
