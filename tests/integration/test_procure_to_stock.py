"""Procure to stock on the real broker and PostgreSQL: a purchase order approved, sent,
confirmed and received in procurement becomes on-order, then sellable stock in inventory, serves
the backordered orders oldest first, and is booked against goods received not invoiced."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.integration.support import (
    ServiceHttp,
    Stack,
    StartService,
    eventually,
    journal_entries,
    new_sku,
    order_body,
    people,
)
from tests.integration.support.purchasing import (
    approve_send_confirm,
    draft_purchase_order,
)

pytestmark = pytest.mark.integration

GOODS_RECEIVED_NOT_INVOICED = "2100"


def run_suggestions(procurement: ServiceHttp, run_id: str) -> list[dict[str, Any]]:
    """Every suggestion of a replenishment run, read a page at a time as a client does."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        response = procurement.get(f"/v1/replenishment-runs/{run_id}/suggestions", **params)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


def receive_goods(
    procurement: ServiceHttp, po_id: str, lines: list[dict[str, Any]]
) -> httpx.Response:
    """The warehouse's receipt of the purchase order's goods; the answer, whatever it is."""
    receipts = f"/v1/purchase-orders/{po_id}/receipts"
    return procurement.as_person(people.WAREHOUSE).post(receipts, {"lines": lines})


def on_order(stack: Stack, sku: str) -> tuple[int, str | None]:
    """On order at WH-EAST and its date; (0, None) while inventory has nothing there at all."""
    for location in stack.availability(sku)["locations"]:
        if location["location_id"] == "WH-EAST":
            return location["on_order"], location["next_expected_date"]
    return 0, None


def grni_credit(stack: Stack, sku: str) -> Decimal | None:
    """What the SKU's purchase receipts credited to goods received not invoiced, read entry by
    entry (the test broker is shared, so the account may also hold other tests' receipts)."""
    movements = stack.inventory.get("/v1/ledger", sku=sku).json()["items"]
    credit = Decimal(0)
    for movement in movements:
        if movement["reference"].startswith("PO "):
            for entry in journal_entries(stack.finance, movement["movement_id"]):
                credit += sum(
                    Decimal(line["credit"])
                    for line in entry["lines"]
                    if line["account"] == GOODS_RECEIVED_NOT_INVOICED
                )
    return credit or None


def wait_backordered(stack: Stack, count: int, sku: str) -> list[str]:
    waiting = []
    for _ in range(count):
        order_id = stack.place(order_body(sku))
        eventually(
            lambda oid=order_id: stack.status(oid) == "backordered",  # type: ignore[misc]
            what="a backorder",
        )
        waiting.append(order_id)
    return waiting


def promise(stack: Stack, sku: str) -> tuple[str | None, str, int]:
    """(date, confidence, short) of inventory's promise of one more unit of `sku`."""
    response = stack.inventory.get(f"/v1/availability/{sku}/promise", quantity=1)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["date"], body["confidence"], body["short"]


def test_a_received_purchase_order_serves_the_backorders_oldest_first(
    start_service: StartService,
) -> None:
    stack = Stack(start_service, procurement=True)
    procurement = stack.procurement
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 1})
    first = stack.place(order_body(sku))
    stack.wait_status(first, "released")
    waiting = wait_backordered(stack, 3, sku)

    po_id = draft_purchase_order(procurement, sku, quantity=2)
    approve_send_confirm(procurement, po_id, "2030-01-15")
    eventually(
        lambda: on_order(stack, sku) == (2, "2030-01-15"), what="inventory to show it on order"
    )
    assert stack.availability(sku)["available_to_sell"] == 0  # on order is not sellable
    # Three orders wait ahead of the two units coming: one more cannot be promised yet.
    assert promise(stack, sku) == (None, "0.0000", 1)

    receipt = receive_goods(procurement, po_id, [{"sku": sku, "quantity": 2}])
    assert receipt.status_code == 201, receipt.text

    eventually(
        lambda: [stack.status(o) for o in waiting[:2]] == ["released", "released"],
        what="the two oldest backorders released by the receipt",
    )
    assert stack.status(waiting[2]) == "backordered"
    assert on_order(stack, sku)[0] == 0

    assert eventually(lambda: grni_credit(stack, sku), what="GRNI credited") == Decimal("14.00")
    assert stack.finance.get("/v1/trial-balance").json()["balanced"] is True

    # The supplier came before the date it promised: procurement rates it on time, and the
    # next order's goods are promised (after the one order still waiting) as sure as that.
    second = draft_purchase_order(procurement, sku, quantity=5)
    approve_send_confirm(procurement, second, "2030-02-01")
    eventually(
        lambda: promise(stack, sku) == ("2030-02-01", "1.0000", 0),
        what="a promise weighed by the supplier's measured punctuality",
    )


def test_a_sku_below_its_reorder_point_is_replenished_and_its_receipt_confirms_the_backorders(
    start_service: StartService,
) -> None:
    stack = Stack(start_service, procurement=True)
    procurement = stack.procurement
    buyer = procurement.as_person(people.BUYER)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 1})
    supplier = {"supplier_id": f"SUP-{sku}", "name": "Acme Ceramics", "lead_time_days": 4}
    assert buyer.post("/v1/suppliers", supplier).status_code == 201
    policy = {
        "supplier_id": supplier["supplier_id"],
        "service_level": "0.95",
        "min_order_qty": 10,
        "pack_size": 5,
    }
    eventually(  # a 503 (retry) until procurement's replicas know the SKU and location
        lambda: buyer.put(f"/v1/policies/{sku}/WH-EAST", policy).status_code == 200 or None,
        what="the replenishment policy set",
    )
    today = datetime.now(UTC).date()
    history = [  # four weeks of 3 to 5 a day, up to yesterday
        {"date": (today - timedelta(days=ago)).isoformat(), "quantity": 3 + ago % 3}
        for ago in range(28, 0, -1)
    ]
    imported = buyer.post(
        "/v1/demand-history",
        {"series": [{"sku": sku, "location_id": "WH-EAST", "days": history}]},
    )
    assert imported.status_code == 201, imported.text
    first = stack.place(order_body(sku))
    stack.wait_status(first, "released")
    waiting = wait_backordered(stack, 3, sku)

    run = buyer.post("/v1/replenishment-runs", {})
    assert run.status_code == 201, run.text
    suggestions = run_suggestions(buyer, run.json()["run_id"])
    assert run.json()["suggestions_made"] == len(suggestions)
    [suggestion] = [s for s in suggestions if s["sku"] == sku]
    assert Decimal(3) < Decimal(suggestion["mean_daily_demand"]) < Decimal(5)
    assert suggestion["position"] == suggestion["on_hand"] + suggestion["on_order"]
    assert suggestion["position"] <= Decimal(suggestion["reorder_point"])
    # the order-up-to level less the position, at least the minimum, in whole packs
    raw = math.ceil(Decimal(suggestion["order_up_to"]) - suggestion["position"])
    assert suggestion["raw_quantity"] == raw
    assert suggestion["quantity"] >= raw
    assert suggestion["quantity"] % 5 == 0  # whole packs
    assert suggestion["quantity"] >= 10  # at least the minimum
    po_id = suggestion["po_id"]
    assert po_id is not None  # the run drafted it

    approve_send_confirm(procurement, po_id, "2030-01-15")
    po = procurement.get(f"/v1/purchase-orders/{po_id}").json()
    lines = [{"sku": line["sku"], "quantity": line["quantity"]} for line in po["lines"]]
    receipt = receive_goods(procurement, po_id, lines)
    assert receipt.status_code == 201, receipt.text

    eventually(
        lambda: all(stack.status(o) == "released" for o in waiting),
        what="every backorder released by the receipt",
    )
    # (which waiting order a short receipt serves first is the test above's concern)


def test_a_supplier_moving_its_date_raises_supplier_delay_on_the_waiting_orders(
    start_service: StartService,
) -> None:
    stack = Stack(start_service, procurement=True)
    procurement = stack.procurement
    sku, other = new_sku(), new_sku()
    stack.stock(sku, {"WH-EAST": 0})
    stack.stock(other, {"WH-EAST": 0})
    waiting = wait_backordered(stack, 2, sku)
    unaffected = wait_backordered(stack, 1, other)
    po_id = draft_purchase_order(procurement, sku, quantity=5)
    approve_send_confirm(procurement, po_id, "2030-01-15")

    confirm, buyer = f"/v1/purchase-orders/{po_id}/confirm", procurement.as_person(people.BUYER)
    earlier = buyer.post(confirm, {"expected_date": "2030-01-10"})
    assert earlier.status_code == 409, earlier.text
    later = buyer.post(confirm, {"expected_date": "2030-01-22"})
    assert later.status_code == 200, later.text

    def raised() -> list[dict[str, Any]] | None:
        page = stack.order.get("/v1/exceptions", type="supplier_delay", reference=po_id).json()
        items: list[dict[str, Any]] = page["items"]
        return items if len(items) == len(waiting) else None

    exceptions = eventually(raised, what="supplier_delay exceptions on the waiting orders")
    assert sorted(e["order_id"] for e in exceptions) == sorted(waiting)
    assert unaffected[0] not in {e["order_id"] for e in exceptions}
    for exception in exceptions:
        assert exception["owner_role"] == "customer_service"
        assert "2030-01-22" in exception["reason"]
        assert exception["reference"] == po_id
    assert all(stack.status(o) == "backordered" for o in waiting)  # a notice, not a gate
    eventually(
        lambda: on_order(stack, sku) == (5, "2030-01-22"), what="inventory to show the new date"
    )


def test_an_over_receipt_beyond_tolerance_is_refused_and_nothing_is_booked(
    start_service: StartService,
) -> None:
    stack = Stack(start_service, procurement=True)
    procurement = stack.procurement
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 0})
    po_id = draft_purchase_order(procurement, sku, quantity=10)
    approve_send_confirm(procurement, po_id, "2030-01-15")
    eventually(lambda: on_order(stack, sku)[0] == 10, what="inventory to show it on order")

    refused = receive_goods(procurement, po_id, [{"sku": sku, "quantity": 11}])
    assert refused.status_code == 422, refused.text
    assert sku in refused.text  # names the line
    po = procurement.get(f"/v1/purchase-orders/{po_id}").json()
    assert po["status"] == "confirmed"
    assert [line["received_quantity"] for line in po["lines"]] == [0]

    # A receipt within tolerance after it books only its own units: the refused one left nothing
    # behind to be booked later.
    accepted = receive_goods(procurement, po_id, [{"sku": sku, "quantity": 10}])
    assert accepted.status_code == 201, accepted.text
    eventually(
        lambda: stack.availability(sku)["available_to_sell"] == 10,
        what="the accepted receipt sellable",
    )
    assert on_order(stack, sku)[0] == 0
    # 10 units at 7.00: the refused receipt credited nothing.
    assert eventually(lambda: grni_credit(stack, sku), what="GRNI credited") == Decimal("70.00")
    assert stack.finance.get("/v1/trial-balance").json()["balanced"] is True
