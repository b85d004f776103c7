"""Service tests of cycle counts and adjustments: blind counts, variances applied within
tolerance or held for another person's approval, the exception queue, and the ledger, the
events and the checks after each."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from inventory_harness import Inventory, reserve
from keel_contracts.events import ShipmentShipped
from keel_contracts.roles import Role
from keel_contracts.values import Line
from keel_inventory import stock_exceptions

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

OLGA = ("olga", Role.OPERATIONS)
OTTO = ("otto", Role.OPERATIONS)
WES = ("wes", Role.WAREHOUSE)
STOCK = "inventory.stock.v1"


async def count(inventory: Inventory, *lines: tuple[str, int], by: Any = WES) -> dict[str, Any]:
    """A count of `lines`' SKUs at WH-A, and its results as `by` posts them."""
    skus = [sku for sku, _ in lines]
    made = await inventory.act("/v1/counts", OLGA, {"location_id": "WH-A", "skus": skus}, 201)
    results = {"lines": [{"sku": sku, "counted": n} for sku, n in lines]}
    return await inventory.act(f"/v1/counts/{made['count_id']}/results", by, results)


async def adjusted_events(inventory: Inventory) -> list[tuple[str, int, str]]:
    return [
        (e.payload["sku"], e.payload["quantity"], e.payload["reason_code"])
        for e in await inventory.staged(STOCK)
        if e.type == "stock.adjusted"
    ]


async def test_the_count_is_blind_until_counted(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 100)
    made = await inventory.act(
        "/v1/counts", WES, {"location_id": "WH-A", "skus": ["MUG", "PLATE"]}, 201
    )
    shown = (await inventory.client.get(f"/v1/counts/{made['count_id']}")).json()
    for view in (made, shown):
        assert view["status"] == "open"
        assert view["lines"] == [
            {
                "sku": s,
                "expected": None,
                "counted": None,
                "variance": None,
                "within_tolerance": None,
            }
            for s in ("MUG", "PLATE")
        ]


async def test_a_small_variance_posts_at_once(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 100)
    await inventory.receive("PLATE", "WH-A", 10)

    done = await count(inventory, ("MUG", 98), ("PLATE", 10))

    assert done["status"] == "counted"
    assert [(x["sku"], x["expected"], x["counted"], x["variance"]) for x in done["lines"]] == [
        ("MUG", 100, 98, -2),
        ("PLATE", 10, 10, 0),
    ]
    (applied,) = done["adjustments"]
    assert (applied["status"], applied["quantity"], applied["value"]) == ("applied", -2, "-2.00")
    assert applied["decided_by"] is None  # within tolerance: nobody had to decide
    assert await inventory.stock("MUG") == {"WH-A": (98, 0)}
    assert await adjusted_events(inventory) == [("MUG", -2, "count_variance")]
    queue = (await inventory.client.get("/v1/exceptions")).json()
    assert queue["items"] == []
    await inventory.assert_invariants_hold()


async def test_a_large_variance_waits_for_someone_else_to_approve(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 100)

    done = await count(inventory, ("MUG", 90))
    (pending,) = done["adjustments"]
    assert (pending["status"], pending["quantity"], pending["requested_by"]) == (
        "pending_approval",
        -10,
        "wes",
    )
    assert await inventory.stock("MUG") == {"WH-A": (100, 0)}  # unchanged until approved
    (exception,) = (await inventory.client.get("/v1/exceptions")).json()["items"]
    assert (exception["type"], exception["reference"], exception["owner_role"]) == (
        "count_discrepancy",
        pending["adjustment_id"],
        "operations",
    )
    assert "counted 90 where the ledger holds 100" in exception["reason"]

    approve = f"/v1/adjustments/{pending['adjustment_id']}/approve"
    await inventory.act(approve, WES, expect=403)  # the warehouse may not approve
    await inventory.act(approve, ("wes", Role.OPERATIONS), expect=403)  # nor the counter
    approved = await inventory.act(approve, OTTO)
    assert (approved["status"], approved["decided_by"]) == ("applied", "otto")
    await inventory.act(approve, OTTO, expect=409)
    await inventory.act(f"/v1/adjustments/{pending['adjustment_id']}/reject", OTTO, expect=409)

    assert await inventory.stock("MUG") == {"WH-A": (90, 0)}
    assert await adjusted_events(inventory) == [("MUG", -10, "count_variance")]
    assert (await inventory.client.get("/v1/exceptions")).json()["items"] == []
    resolved = (await inventory.client.get("/v1/exceptions", params={"status": "resolved"})).json()
    assert [(e["resolution"], e["resolved_by"]) for e in resolved["items"]] == [("release", "otto")]
    await inventory.assert_invariants_hold()


async def test_a_rejected_adjustment_leaves_stock_alone(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 10)
    made = await inventory.act(
        "/v1/adjustments",
        WES,
        {"sku": "MUG", "location_id": "WH-A", "quantity": 5, "reason_code": "found"},
        201,
    )
    assert made["status"] == "pending_approval"  # 50% of what was expected

    rejected = await inventory.act(f"/v1/adjustments/{made['adjustment_id']}/reject", OLGA)
    assert (rejected["status"], rejected["decided_by"]) == ("rejected", "olga")
    assert await inventory.stock("MUG") == {"WH-A": (10, 0)}
    assert await adjusted_events(inventory) == []


async def test_the_queue_decides_through_the_adjustment(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 10)
    await count(inventory, ("MUG", 13))
    (exception,) = (await inventory.client.get("/v1/exceptions")).json()["items"]
    exception_id = exception["exception_id"]

    claimed = await inventory.act(f"/v1/exceptions/{exception_id}/claim", OLGA)
    assert claimed["claimed_by"] == "olga"
    await inventory.act(f"/v1/exceptions/{exception_id}/claim", OTTO, expect=409)
    decision = {"decision": "release", "note": "three mugs behind the pallet"}
    await inventory.act(f"/v1/exceptions/{exception_id}/resolve", WES, decision, 403)
    done = await inventory.act(f"/v1/exceptions/{exception_id}/resolve", OLGA, decision)
    assert (done["resolution"], done["resolution_note"]) == ("release", decision["note"])
    await inventory.act(f"/v1/exceptions/{exception_id}/resolve", OLGA, decision, 409)

    assert await inventory.stock("MUG") == {"WH-A": (13, 0)}
    await inventory.assert_invariants_hold()


async def test_reserved_units_are_never_adjusted_away(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 100)
    await inventory.publish(reserve("O-1", ("MUG", 99)))

    done = await count(inventory, ("MUG", 98))  # within tolerance, but 99 are reserved
    (pending,) = done["adjustments"]
    assert pending["status"] == "pending_approval"
    (exception,) = (await inventory.client.get("/v1/exceptions")).json()["items"]
    assert "1 of the units are reserved for orders" in exception["reason"]

    refused = await inventory.act(
        f"/v1/adjustments/{pending['adjustment_id']}/approve", OLGA, expect=409
    )
    assert "reserved for orders" in refused["detail"]
    assert await inventory.stock("MUG") == {"WH-A": (100, 99)}
    await inventory.assert_invariants_hold()


async def test_found_units_serve_the_backorder_queue(inventory: Inventory) -> None:
    await inventory.publish(reserve("O-1", ("MUG", 1), backorder=True))
    made = await inventory.act(
        "/v1/adjustments",
        WES,
        {"sku": "MUG", "location_id": "WH-A", "quantity": 1, "reason_code": "found"},
        201,
    )
    await inventory.act(f"/v1/adjustments/{made['adjustment_id']}/approve", OLGA)

    view = (await inventory.client.get("/v1/reservations/O-1")).json()
    assert view["status"] == "held"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": "MUG", "location_id": "WH-A", "quantity": 0, "reason_code": "loss"}, "quantity"),
        ({"sku": "MUG", "location_id": "WH-A", "quantity": -6, "reason_code": "loss"}, "quantity"),
        ({"sku": "NOPE", "location_id": "WH-A", "quantity": 1, "reason_code": "found"}, "sku"),
        ({"sku": "MUG", "location_id": "NOPE", "quantity": 1, "reason_code": "found"}, None),
        ({"sku": "MUG", "location_id": "WH-A", "quantity": 1, "reason_code": "theft"}, None),
    ],
)
async def test_bad_adjustments_are_refused(
    inventory: Inventory, body: dict[str, Any], field: str | None
) -> None:
    await inventory.receive("MUG", "WH-A", 5)
    refused = await inventory.act("/v1/adjustments", WES, body, 422)
    if field is not None:
        assert field in str(refused)
    assert await inventory.stock("MUG") == {"WH-A": (5, 0)}


async def test_results_must_match_the_count(inventory: Inventory) -> None:
    made = await inventory.act("/v1/counts", OLGA, {"location_id": "WH-A", "skus": ["MUG"]}, 201)
    results = f"/v1/counts/{made['count_id']}/results"
    await inventory.act(results, WES, {"lines": [{"sku": "PLATE", "counted": 1}]}, 422)
    twice = [{"sku": "MUG", "counted": 1}, {"sku": "MUG", "counted": 1}]
    await inventory.act(results, WES, {"lines": twice}, 422)
    await inventory.act(results, OLGA, {"lines": [{"sku": "MUG", "counted": 0}]}, 403)
    await inventory.act(results, WES, {"lines": [{"sku": "MUG", "counted": 0}]})
    await inventory.act(results, WES, {"lines": [{"sku": "MUG", "counted": 0}]}, 409)
    body = {"location_id": "WH-A", "skus": ["MUG", "MUG"]}
    await inventory.act("/v1/counts", OLGA, body, 422)
    await inventory.act("/v1/counts", OLGA, {"location_id": "WH-A", "skus": ["NOPE"]}, 422)
    await inventory.act("/v1/counts/nope/results", WES, {"lines": twice[:1]}, 404)


async def test_an_exception_left_open_past_its_due_time_goes_up_to_admin(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 10)
    await count(inventory, ("MUG", 5))
    (exception,) = (await inventory.client.get("/v1/exceptions")).json()["items"]
    due = datetime.fromisoformat(exception["due_at"])

    for at in (due - timedelta(minutes=1), due + timedelta(minutes=1), due + timedelta(hours=1)):
        async with replace(inventory.context, clock=lambda at=at: at).unit_of_work() as work:
            await stock_exceptions.escalate_overdue(work)

    (escalated,) = (await inventory.client.get("/v1/exceptions")).json()["items"]
    assert escalated["escalated_to"] == "admin"  # operations owns it: straight to admin
    assert datetime.fromisoformat(escalated["escalated_at"]) == due + timedelta(minutes=1)
    trail = await inventory.get_json("/v1/audit", object_id=exception["exception_id"])
    assert [(e["action"], e["actor"]) for e in trail["items"]] == [
        ("exception.escalated", "service:inventory")  # once, however often the job runs
    ]
    await inventory.sample_metrics()
    assert (
        await inventory.metric(
            "keel_exceptions_escalated_total", type="count_discrepancy", to="admin"
        )
        == 1
    )


async def test_an_adjustment_that_stock_has_since_outrun_cannot_be_approved(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 10)
    done = await count(inventory, ("MUG", 5))  # 5 missing: waits for approval
    (pending,) = done["adjustments"]
    await inventory.publish(reserve("O-1", ("MUG", 8)))
    await inventory.publish(
        ShipmentShipped(
            shipment_id="S-1",
            order_id="O-1",
            location_id="WH-A",
            lines=(Line(sku="MUG", quantity=8),),
            carrier="UPS",
            tracking_number="1Z",
        )
    )

    refused = await inventory.act(
        f"/v1/adjustments/{pending['adjustment_id']}/approve", OLGA, expect=409
    )
    assert "2 MUG are left at WH-A" in refused["detail"]
    await inventory.act(f"/v1/adjustments/{pending['adjustment_id']}/reject", OLGA)
    assert await inventory.stock("MUG") == {"WH-A": (2, 0)}
    await inventory.assert_invariants_hold()
