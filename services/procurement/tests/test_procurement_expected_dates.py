"""Service tests: the supplier's expected date moved after confirmation, and the delay it
announces."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from procurement_harness import TODAY, TOMORROW, Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

NEXT_WEEK = (TODAY + timedelta(days=7)).isoformat()
ALL = [{"sku": "MUG-1", "quantity": 100}, {"sku": "PLATE-2", "quantity": 40}]


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
