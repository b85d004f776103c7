"""Service tests: the purchase-order lifecycle, its approvals, receiving and its events."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from procurement_harness import ORDER, Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

TODAY = datetime.now(UTC).date()
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
NEXT_WEEK = (TODAY + timedelta(days=7)).isoformat()
ALL = [{"sku": "MUG-1", "quantity": 100}, {"sku": "PLATE-2", "quantity": 40}]


def order_with(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(ORDER)
    body.update(changes)
    return body


async def test_purchase_order_is_drafted_with_its_total(procurement: Procurement) -> None:
    po = await procurement.draft()

    assert po["status"] == "draft"
    assert po["total"] == "415.00"
    assert po["currency"] == "USD"
    assert po["approvals_required"] == 1
    assert [(line["sku"], line["quantity"], line["unit_cost"]) for line in po["lines"]] == [
        ("MUG-1", 100, "2.50"),
        ("PLATE-2", 40, "4.1250"),
    ]
    assert await procurement.po(po["po_id"]) == po
    [drafted] = await procurement.events(po["po_id"])
    assert drafted.type == "purchase_order.drafted"
    assert drafted.payload["total"] == {"amount": "415.00", "currency": "USD"}


async def test_purchase_order_goes_from_draft_to_received_with_an_event_for_each_step(
    procurement: Procurement,
) -> None:
    po_id = (await procurement.draft())["po_id"]

    approved = await procurement.act(po_id, "approve", {"approver": "ann"})
    assert (approved["status"], approved["approvers"]) == ("approved", ["ann"])
    sent = await procurement.act(po_id, "send")
    assert sent["status"] == "sent"
    assert sent["sent_at"] is not None
    confirmed = await procurement.act(po_id, "confirm", {"expected_date": TOMORROW})
    assert (confirmed["status"], confirmed["expected_date"]) == ("confirmed", TOMORROW)
    assert confirmed["promised_date"] == TOMORROW
    first = await procurement.act(po_id, "receipts", {"lines": [{"sku": "MUG-1", "quantity": 60}]})
    assert first["purchase_order"]["status"] == "partially_received"
    assert first["purchase_order"]["received_at"] is None
    assert first["purchase_order"]["first_received_at"] == first["received_at"]
    second = await procurement.act(
        po_id,
        "receipts",
        {"lines": [{"sku": "MUG-1", "quantity": 40}, {"sku": "PLATE-2", "quantity": 40}]},
    )
    po = second["purchase_order"]
    assert po["status"] == "received"
    assert [line["received_quantity"] for line in po["lines"]] == [100, 40]
    assert po["received_at"] == second["received_at"]
    assert po["first_received_at"] == first["received_at"]

    events = await procurement.events(po_id)
    assert [e.type for e in events] == [
        "purchase_order.drafted",
        "purchase_order.approved",
        "purchase_order.sent",
        "purchase_order.confirmed",
        "purchase_order.received",
        "purchase_order.received",
    ]
    assert events[3].payload["expected_at"] == f"{TOMORROW}T00:00:00Z"
    received = events[-1].payload
    assert received == {
        "purchase_order_id": po_id,
        "receipt_id": second["receipt_id"],
        "supplier_id": "ACME",
        "location_id": "WH-EAST",
        "lines": [
            {"sku": "MUG-1", "quantity": 40, "unit_cost": {"amount": "2.50", "currency": "USD"}},
            {
                "sku": "PLATE-2",
                "quantity": 40,
                "unit_cost": {"amount": "4.1250", "currency": "USD"},
            },
        ],
        "received_at": received["received_at"],
        "complete": True,
    }
    assert events[4].payload["complete"] is False
    assert events[4].payload["receipt_id"] == first["receipt_id"]


async def test_received_order_is_closed_with_nothing_short(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()
    lines = [{"sku": "MUG-1", "quantity": 100}, {"sku": "PLATE-2", "quantity": 40}]
    await procurement.act(po_id, "receipts", {"lines": lines})

    closed = await procurement.act(po_id, "close")

    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    last = (await procurement.events(po_id))[-1]
    assert (last.type, last.payload["short_lines"]) == ("purchase_order.closed", [])


async def test_partly_received_order_is_closed_short(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()
    await procurement.act(po_id, "receipts", {"lines": [{"sku": "MUG-1", "quantity": 70}]})

    closed = await procurement.act(po_id, "close")

    assert closed["status"] == "closed"
    last = (await procurement.events(po_id))[-1]
    assert last.type == "purchase_order.closed"
    assert last.payload["short_lines"] == [
        {"sku": "MUG-1", "quantity": 30},
        {"sku": "PLATE-2", "quantity": 40},
    ]


async def test_confirmed_order_is_cancelled_with_its_reason(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()
    await procurement.act(po_id, "confirm", {"expected_date": TOMORROW})

    cancelled = await procurement.act(po_id, "cancel", {"reason": "supplier out of stock"})

    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "supplier out of stock"
    last = (await procurement.events(po_id))[-1]
    assert (last.type, last.payload["reason"]) == (
        "purchase_order.cancelled",
        "supplier out of stock",
    )


# --- approvals ---

# 5,000 x 2.50 = 12,500.00: above the default threshold of 10,000.00.
LARGE = order_with(lines=[{"sku": "MUG-1", "quantity": 5000, "unit_cost": "2.50"}])


async def test_order_above_the_threshold_waits_for_a_second_approver(
    procurement: Procurement,
) -> None:
    po = await procurement.draft(LARGE)
    assert (po["total"], po["approvals_required"]) == ("12500.00", 2)

    first = await procurement.act(po["po_id"], "approve", {"approver": "ann"})

    assert (first["status"], first["approvers"]) == ("draft", ["ann"])
    assert first["approved_at"] is None
    assert [e.type for e in await procurement.events(po["po_id"])] == ["purchase_order.drafted"]
    second = await procurement.act(po["po_id"], "approve", {"approver": "bob"})
    assert (second["status"], second["approvers"]) == ("approved", ["ann", "bob"])
    approved = (await procurement.events(po["po_id"]))[-1]
    assert approved.type == "purchase_order.approved"
    assert approved.payload["approvers"] == ["ann", "bob"]
    assert approved.payload["total"] == {"amount": "12500.00", "currency": "USD"}


async def test_same_approver_twice_is_a_conflict(procurement: Procurement) -> None:
    po_id = (await procurement.draft(LARGE))["po_id"]
    await procurement.act(po_id, "approve", {"approver": "ann"})

    again = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/approve", json={"approver": "ann"}
    )

    assert again.status_code == 409
    assert "second, different approver" in again.json()["detail"]
    po = await procurement.po(po_id)
    assert (po["status"], po["approvers"]) == ("draft", ["ann"])


async def test_order_at_the_threshold_needs_one_approver(procurement: Procurement) -> None:
    at_threshold = order_with(lines=[{"sku": "MUG-1", "quantity": 4000, "unit_cost": "2.50"}])
    po = await procurement.draft(at_threshold)
    assert (po["total"], po["approvals_required"]) == ("10000.00", 1)

    approved = await procurement.act(po["po_id"], "approve", {"approver": "ann"})

    assert approved["status"] == "approved"


# --- receiving ---


async def test_receipt_beyond_the_tolerance_is_refused_and_books_nothing(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    # MUG-1 may reach 105 (100 + 5%), PLATE-2 42 (40 + 5%): the second line is one too many.
    lines = [{"sku": "MUG-1", "quantity": 105}, {"sku": "PLATE-2", "quantity": 43}]

    refused = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/receipts", json={"lines": lines}
    )

    assert refused.status_code == 422
    problem = refused.json()
    assert problem["errors"] == [{"field": "lines.1.quantity", "message": problem["detail"]}]
    assert "PLATE-2" in problem["detail"]
    assert "at most 42" in problem["detail"]
    po = await procurement.po(po_id)
    assert po["status"] == "sent"
    assert [line["received_quantity"] for line in po["lines"]] == [0, 0]
    assert "purchase_order.received" not in [e.type for e in await procurement.events(po_id)]


async def test_receipt_within_the_tolerance_is_booked(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()
    lines = [{"sku": "MUG-1", "quantity": 105}, {"sku": "PLATE-2", "quantity": 42}]

    receipt = await procurement.act(po_id, "receipts", {"lines": lines})

    po = receipt["purchase_order"]
    assert po["status"] == "received"
    assert [line["received_quantity"] for line in po["lines"]] == [105, 42]


async def test_receipt_within_the_under_tolerance_completes_the_order(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    lines = [{"sku": "MUG-1", "quantity": 95}, {"sku": "PLATE-2", "quantity": 38}]

    receipt = await procurement.act(po_id, "receipts", {"lines": lines})

    assert receipt["purchase_order"]["status"] == "received"  # 95 of 100, 38 of 40: filled
    last = (await procurement.events(po_id))[-1]
    assert (last.type, last.payload["complete"]) == ("purchase_order.received", True)


async def test_receipt_below_the_under_tolerance_leaves_the_order_open(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    lines = [{"sku": "MUG-1", "quantity": 94}, {"sku": "PLATE-2", "quantity": 40}]

    receipt = await procurement.act(po_id, "receipts", {"lines": lines})

    assert receipt["purchase_order"]["status"] == "partially_received"
    last = (await procurement.events(po_id))[-1]
    assert last.payload["complete"] is False


async def test_receipts_add_up_against_the_tolerance(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()
    await procurement.act(po_id, "receipts", {"lines": [{"sku": "MUG-1", "quantity": 60}]})

    refused = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/receipts",
        json={"lines": [{"sku": "MUG-1", "quantity": 30}, {"sku": "MUG-1", "quantity": 16}]},
    )

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "lines.0.quantity"
    assert [line["received_quantity"] for line in (await procurement.po(po_id))["lines"]] == [60, 0]


async def test_receipt_of_a_sku_not_on_the_order_is_refused(procurement: Procurement) -> None:
    body = order_with(lines=[{"sku": "MUG-1", "quantity": 10, "unit_cost": "2.50"}])
    po_id = await procurement.sent_order(body)

    refused = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/receipts",
        json={"lines": [{"sku": "MUG-1", "quantity": 5}, {"sku": "PLATE-2", "quantity": 1}]},
    )

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "lines.1.sku"
    assert (await procurement.po(po_id))["lines"][0]["received_quantity"] == 0


# --- illegal transitions ---


@pytest.mark.parametrize(
    ("done", "action", "body", "detail"),
    [
        ([], "send", None, "cannot send a purchase order that is draft"),
        (
            [],
            "confirm",
            {"expected_date": TOMORROW},
            "cannot confirm a purchase order that is draft",
        ),
        ([], "receipts", {"lines": [{"sku": "MUG-1", "quantity": 1}]}, "cannot receive"),
        ([], "close", None, "cannot close a purchase order that is draft"),
        (["approve"], "approve", {"approver": "bob"}, "cannot approve a purchase order that is"),
        (["approve", "send", "receive"], "cancel", None, "cannot cancel a purchase order that is "),
        (["approve", "send", "receive"], "confirm", {"expected_date": TOMORROW}, "cannot confirm"),
        (["cancel"], "approve", {"approver": "ann"}, "that is cancelled"),
        (
            ["approve", "send", "receive_all"],
            "receipts",
            {"lines": [{"sku": "MUG-1", "quantity": 1}]},
            "that is received",
        ),
    ],
)
async def test_illegal_transition_is_a_conflict(
    procurement: Procurement,
    done: list[str],
    action: str,
    body: dict[str, Any] | None,
    detail: str,
) -> None:
    po_id = (await procurement.draft())["po_id"]
    steps: dict[str, tuple[str, dict[str, Any] | None]] = {
        "approve": ("approve", {"approver": "ann"}),
        "send": ("send", None),
        "cancel": ("cancel", None),
        "receive": ("receipts", {"lines": [{"sku": "MUG-1", "quantity": 1}]}),
        "receive_all": (
            "receipts",
            {"lines": [{"sku": "MUG-1", "quantity": 100}, {"sku": "PLATE-2", "quantity": 40}]},
        ),
    }
    for step in done:
        await procurement.act(po_id, *steps[step])
    before = await procurement.po(po_id)
    events_before = len(await procurement.events(po_id))

    response = await procurement.client.post(f"/v1/purchase-orders/{po_id}/{action}", json=body)

    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert await procurement.po(po_id) == before
    assert len(await procurement.events(po_id)) == events_before


# --- moving the supplier's date ---


async def confirmed_order(procurement: Procurement) -> str:
    po_id = await procurement.sent_order()
    await procurement.act(po_id, "confirm", {"expected_date": TOMORROW})
    return po_id


async def test_later_date_is_stored_and_announces_the_outstanding_units_as_delayed(
    procurement: Procurement,
) -> None:
    po_id = await confirmed_order(procurement)
    lines = [{"sku": "MUG-1", "quantity": 100}, {"sku": "PLATE-2", "quantity": 10}]
    await procurement.act(po_id, "receipts", {"lines": lines})

    moved = await procurement.act(po_id, "confirm", {"expected_date": NEXT_WEEK})

    assert moved["status"] == "partially_received"
    assert (moved["expected_date"], moved["promised_date"]) == (NEXT_WEEK, TOMORROW)
    assert await procurement.po(po_id) == moved
    delayed = (await procurement.events(po_id))[-1]
    assert delayed.type == "purchase_order.delayed"
    # MUG-1 is all in: only the 30 plates still owed are delayed
    assert delayed.payload == {
        "purchase_order_id": po_id,
        "supplier_id": "ACME",
        "location_id": "WH-EAST",
        "lines": [{"sku": "PLATE-2", "quantity": 30}],
        "previous_expected_at": f"{TOMORROW}T00:00:00Z",
        "expected_at": f"{NEXT_WEEK}T00:00:00Z",
    }


async def test_later_date_of_a_confirmed_order_delays_every_line(
    procurement: Procurement,
) -> None:
    po_id = await confirmed_order(procurement)

    moved = await procurement.act(po_id, "confirm", {"expected_date": NEXT_WEEK})

    assert (moved["status"], moved["expected_date"]) == ("confirmed", NEXT_WEEK)
    events = await procurement.events(po_id)
    assert [e.type for e in events][-2:] == ["purchase_order.confirmed", "purchase_order.delayed"]
    assert events[-1].payload["lines"] == [
        {"sku": "MUG-1", "quantity": 100},
        {"sku": "PLATE-2", "quantity": 40},
    ]


async def test_same_date_again_changes_nothing_and_announces_nothing(
    procurement: Procurement,
) -> None:
    po_id = await confirmed_order(procurement)
    before = await procurement.po(po_id)
    events_before = len(await procurement.events(po_id))

    again = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/confirm", json={"expected_date": TOMORROW}
    )

    assert again.status_code == 200, again.text
    assert again.json() == before
    assert await procurement.po(po_id) == before
    assert len(await procurement.events(po_id)) == events_before


async def test_earlier_date_is_a_conflict(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()
    await procurement.act(po_id, "confirm", {"expected_date": NEXT_WEEK})
    before = await procurement.po(po_id)
    events_before = len(await procurement.events(po_id))

    earlier = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/confirm", json={"expected_date": TOMORROW}
    )

    assert earlier.status_code == 409, earlier.text
    assert earlier.headers["content-type"] == "application/problem+json"
    problem = earlier.json()
    assert "can only move later" in problem["detail"]
    assert "received" in problem["detail"]
    assert problem["errors"][0]["field"] == "expected_date"
    assert await procurement.po(po_id) == before
    assert len(await procurement.events(po_id)) == events_before


async def test_date_of_an_order_received_before_any_confirmation_cannot_be_moved(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    await procurement.act(po_id, "receipts", {"lines": [{"sku": "MUG-1", "quantity": 10}]})

    response = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/confirm", json={"expected_date": NEXT_WEEK}
    )

    assert response.status_code == 409, response.text
    assert "no date to move" in response.json()["detail"]
    po = await procurement.po(po_id)
    assert (po["expected_date"], po["promised_date"]) == (None, None)
    assert "purchase_order.delayed" not in [e.type for e in await procurement.events(po_id)]


@pytest.mark.parametrize(
    ("steps", "status"),
    [
        ([("receipts", {"lines": ALL})], "received"),
        ([("receipts", {"lines": ALL}), ("close", None)], "closed"),
        ([("cancel", None)], "cancelled"),
    ],
)
async def test_date_of_a_finished_order_cannot_be_moved(
    procurement: Procurement, steps: list[tuple[str, dict[str, Any] | None]], status: str
) -> None:
    po_id = await confirmed_order(procurement)
    for action, body in steps:
        await procurement.act(po_id, action, body)
    events_before = len(await procurement.events(po_id))

    response = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/confirm", json={"expected_date": NEXT_WEEK}
    )

    assert response.status_code == 409, response.text
    assert f"cannot confirm a purchase order that is {status}" in response.json()["detail"]
    assert (await procurement.po(po_id))["expected_date"] == TOMORROW
    assert len(await procurement.events(po_id)) == events_before


async def test_unknown_purchase_order_is_not_found(procurement: Procurement) -> None:
    response = await procurement.client.get("/v1/purchase-orders/nope")
    assert response.status_code == 404
    send = await procurement.client.post("/v1/purchase-orders/nope/send")
    assert send.status_code == 404


# --- bad input ---


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order_with(supplier_id="NOBODY"), "supplier_id"),
        (order_with(location_id="WH-NOWHERE"), "location_id"),
        (order_with(lines=[]), "lines"),
        (order_with(lines=[{"sku": "MUG-1", "quantity": 0, "unit_cost": "1"}]), "lines.0.quantity"),
        (
            order_with(lines=[{"sku": "MUG-1", "quantity": 1, "unit_cost": "-1"}]),
            "lines.0.unit_cost",
        ),
        (order_with(lines=[{"sku": "NOPE", "quantity": 1, "unit_cost": "1"}]), "lines.0.sku"),
        (
            order_with(
                lines=[
                    {"sku": "MUG-1", "quantity": 1, "unit_cost": "1"},
                    {"sku": "MUG-1", "quantity": 2, "unit_cost": "1"},
                ]
            ),
            "lines.1.sku",
        ),
        (order_with(currency="usd"), "currency"),
        ({k: v for k, v in ORDER.items() if k != "supplier_id"}, "supplier_id"),
    ],
)
async def test_bad_purchase_order_is_refused_naming_the_field(
    procurement: Procurement, body: dict[str, Any], field: str
) -> None:
    response = await procurement.client.post("/v1/purchase-orders", json=body)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_confirmation_needs_an_expected_date_not_before_sending(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    url = f"/v1/purchase-orders/{po_id}/confirm"

    missing = await procurement.client.post(url, json={})
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    past = await procurement.client.post(url, json={"expected_date": yesterday})

    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (422, "expected_date")
    assert (past.status_code, past.json()["errors"][0]["field"]) == (422, "expected_date")
    assert (await procurement.po(po_id))["status"] == "sent"


async def test_approval_needs_an_approver(procurement: Procurement) -> None:
    po_id = (await procurement.draft())["po_id"]

    response = await procurement.client.post(f"/v1/purchase-orders/{po_id}/approve", json={})

    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "approver")


# --- idempotency ---


async def test_same_idempotency_key_replays_the_purchase_order(procurement: Procurement) -> None:
    headers = {"Idempotency-Key": "po-2026-001"}
    first = await procurement.client.post("/v1/purchase-orders", json=ORDER, headers=headers)
    again = await procurement.client.post("/v1/purchase-orders", json=ORDER, headers=headers)
    other = await procurement.client.post("/v1/purchase-orders", json=LARGE, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (other.status_code, other.json()["errors"][0]["field"]) == (422, "Idempotency-Key")
    assert [e.type for e in await procurement.events(first.json()["po_id"])] == [
        "purchase_order.drafted"
    ]


async def test_repeated_receipt_with_the_same_key_is_booked_once(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    url = f"/v1/purchase-orders/{po_id}/receipts"
    body = {"lines": [{"sku": "MUG-1", "quantity": 10}]}
    headers = {"Idempotency-Key": "dock-7-0001"}

    first = await procurement.client.post(url, json=body, headers=headers)
    again = await procurement.client.post(url, json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["receipt_id"] == first.json()["receipt_id"]
    assert (await procurement.po(po_id))["lines"][0]["received_quantity"] == 10
    received = [e for e in await procurement.events(po_id) if e.type == "purchase_order.received"]
    assert len(received) == 1
