"""Service tests: the purchase-order lifecycle and its events, illegal transitions, bad input
and idempotent replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from procurement_harness import LARGE, ORDER, TOMORROW, Procurement, order_with

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def test_purchase_order_is_drafted_with_its_total(procurement: Procurement) -> None:
    po = await procurement.draft()

    assert po["status"] == "draft"
    assert po["total"] == "415.00"
    assert po["currency"] == "USD"
    assert po["approvals_required"] == 1
    assert [(line["sku"], line["quantity"], line["unit_cost"]) for line in po["lines"]] == [
        ("MUG-1", 100, "2.50"),
        ("PLATE-2", 40, "4.125"),
    ]
    assert await procurement.po(po["po_id"]) == po
    [drafted] = await procurement.events(po["po_id"])
    assert drafted.type == "purchase_order.drafted"
    assert drafted.payload["total"] == {"amount": "415.00", "currency": "USD"}


@pytest.mark.parametrize(
    ("currency", "unit_costs", "shown_costs", "total"),
    [
        ("JPY", ("250.0000", "300"), ("250", "300"), "37000"),  # yen are whole
        ("KWD", ("2.5", "4.125"), ("2.500", "4.125"), "415.000"),  # a dinar has three places
    ],
)
async def test_a_purchase_order_s_amounts_are_shown_with_its_currency_s_places(
    procurement: Procurement,
    currency: str,
    unit_costs: tuple[str, str],
    shown_costs: tuple[str, str],
    total: str,
) -> None:
    lines = [
        {"sku": "MUG-1", "quantity": 100, "unit_cost": unit_costs[0]},
        {"sku": "PLATE-2", "quantity": 40, "unit_cost": unit_costs[1]},
    ]

    po = await procurement.draft(order_with(currency=currency, lines=lines))

    assert (po["currency"], po["total"]) == (currency, total)
    assert tuple(line["unit_cost"] for line in po["lines"]) == shown_costs
    assert await procurement.po(po["po_id"]) == po  # read back from the columns alike
    [drafted] = await procurement.events(po["po_id"])
    assert drafted.payload["total"] == {"amount": total, "currency": currency}


async def test_purchase_order_goes_from_draft_to_received_with_an_event_for_each_step(
    procurement: Procurement,
) -> None:
    po_id = (await procurement.draft())["po_id"]

    approved = await procurement.approve(po_id, by="ann")
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
            {
                "sku": "MUG-1",
                "quantity": 40,
                "unit_cost": {"amount": "2.50", "currency": "USD"},
                "lot": None,
                "expires_on": None,
            },
            {
                "sku": "PLATE-2",
                "quantity": 40,
                "unit_cost": {"amount": "4.125", "currency": "USD"},
                "lot": None,
                "expires_on": None,
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
        (["approve"], "approve", None, "cannot approve a purchase order that is"),
        (["approve", "send", "receive"], "cancel", None, "cannot cancel a purchase order that is "),
        (["approve", "send", "receive"], "confirm", {"expected_date": TOMORROW}, "cannot confirm"),
        (["cancel"], "approve", None, "that is cancelled"),
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
        "send": ("send", None),
        "cancel": ("cancel", None),
        "receive": ("receipts", {"lines": [{"sku": "MUG-1", "quantity": 1}]}),
        "receive_all": (
            "receipts",
            {"lines": [{"sku": "MUG-1", "quantity": 100}, {"sku": "PLATE-2", "quantity": 40}]},
        ),
    }
    for step in done:
        if step == "approve":
            await procurement.approve(po_id)  # a buyer's: the admin drafted it
        else:
            await procurement.act(po_id, *steps[step])
    before = await procurement.po(po_id)
    events_before = len(await procurement.events(po_id))

    response = await procurement.client.post(f"/v1/purchase-orders/{po_id}/{action}", json=body)

    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert await procurement.po(po_id) == before
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


async def test_approval_naming_a_blank_approver_is_refused(procurement: Procurement) -> None:
    po_id = (await procurement.draft())["po_id"]
    url = f"/v1/purchase-orders/{po_id}/approve"

    response = await procurement.client.post(url, json={"approver": "  "})

    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "approver")
    assert (await procurement.po(po_id))["approvers"] == []


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
