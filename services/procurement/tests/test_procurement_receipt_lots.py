"""Service tests: receipt lines that name their lot and its expiry, carried on
purchase_order.received for inventory to book them in; at most one lot of a SKU a receipt."""

from __future__ import annotations

from typing import Any

import pytest

from procurement_harness import Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def post_receipt(procurement: Procurement, po_id: str, *lines: dict[str, Any]) -> Any:
    """POST a receipt of `lines`, returning the response whatever its status."""
    path = f"/v1/purchase-orders/{po_id}/receipts"
    return await procurement.client.post(path, json={"lines": list(lines)})


async def received_lines(procurement: Procurement, po_id: str) -> list[list[dict[str, Any]]]:
    """The lines of every purchase_order.received announced for the order, oldest first."""
    events = await procurement.events(po_id)
    return [e.payload["lines"] for e in events if e.type == "purchase_order.received"]


async def assert_nothing_received(procurement: Procurement, po_id: str) -> None:
    po = await procurement.po(po_id)
    assert [line["received_quantity"] for line in po["lines"]] == [0, 0]
    assert await received_lines(procurement, po_id) == []


async def test_a_receipt_puts_each_line_s_lot_and_expiry_on_the_event(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()

    receipt = await procurement.act(
        po_id,
        "receipts",
        {
            "lines": [
                {"sku": "MUG-1", "quantity": 60, "lot": "L-2031.01", "expires_on": "2031-01-15"},
                {"sku": "PLATE-2", "quantity": 10},
            ]
        },
    )

    assert receipt["lines"] == [
        {"sku": "MUG-1", "quantity": 60, "lot": "L-2031.01", "expires_on": "2031-01-15"},
        {"sku": "PLATE-2", "quantity": 10, "lot": None, "expires_on": None},
    ]
    assert await received_lines(procurement, po_id) == [
        [
            {
                "sku": "MUG-1",
                "quantity": 60,
                "unit_cost": {"amount": "2.50", "currency": "USD"},
                "lot": "L-2031.01",
                "expires_on": "2031-01-15",
            },
            {
                "sku": "PLATE-2",
                "quantity": 10,
                "unit_cost": {"amount": "4.125", "currency": "USD"},
                "lot": None,
                "expires_on": None,
            },
        ]
    ]


async def test_a_lot_without_an_expiry_is_carried_as_it_is(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()

    await procurement.act(
        po_id, "receipts", {"lines": [{"sku": "MUG-1", "quantity": 5, "lot": "L1"}]}
    )

    [[line]] = await received_lines(procurement, po_id)
    assert (line["lot"], line["expires_on"]) == ("L1", None)


async def test_lines_of_a_sku_in_the_same_lot_arrive_as_one_line(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    line = {"sku": "MUG-1", "lot": "L1", "expires_on": "2031-01-15"}

    await procurement.act(
        po_id, "receipts", {"lines": [line | {"quantity": 30}, line | {"quantity": 20}]}
    )

    [[merged]] = await received_lines(procurement, po_id)
    assert (merged["quantity"], merged["lot"], merged["expires_on"]) == (50, "L1", "2031-01-15")


async def test_an_expiry_without_a_lot_is_refused_and_books_nothing(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()

    refused = await post_receipt(
        procurement,
        po_id,
        {"sku": "PLATE-2", "quantity": 1},
        {"sku": "MUG-1", "quantity": 5, "expires_on": "2031-01-15"},
    )

    assert refused.status_code == 422
    problem = refused.json()
    assert problem["errors"] == [{"field": "lines.1.expires_on", "message": problem["detail"]}]
    assert "belongs to a lot" in problem["detail"]
    await assert_nothing_received(procurement, po_id)


async def test_a_second_lot_of_a_sku_in_one_receipt_is_refused(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()

    refused = await post_receipt(
        procurement,
        po_id,
        {"sku": "MUG-1", "quantity": 5, "lot": "L1", "expires_on": "2031-01-15"},
        {"sku": "MUG-1", "quantity": 5, "lot": "L2", "expires_on": "2031-02-15"},
    )

    assert refused.status_code == 422
    problem = refused.json()
    assert problem["errors"][0]["field"] == "lines.1.lot"
    assert "one lot of a sku" in problem["detail"]
    await assert_nothing_received(procurement, po_id)


async def test_the_same_lot_with_another_expiry_in_one_receipt_is_refused(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()

    refused = await post_receipt(
        procurement,
        po_id,
        {"sku": "MUG-1", "quantity": 5, "lot": "L1", "expires_on": "2031-01-15"},
        {"sku": "MUG-1", "quantity": 5, "lot": "L1", "expires_on": "2031-02-15"},
    )

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "lines.1.lot"
    await assert_nothing_received(procurement, po_id)


async def test_units_of_a_sku_with_and_without_a_lot_in_one_receipt_are_refused(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()

    refused = await post_receipt(
        procurement,
        po_id,
        {"sku": "MUG-1", "quantity": 5},
        {"sku": "MUG-1", "quantity": 5, "lot": "L1"},
    )

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "lines.1.lot"
    await assert_nothing_received(procurement, po_id)


@pytest.mark.parametrize("lot", ["", "L 1", "L/1", "L" * 65])
async def test_a_lot_code_out_of_bounds_is_refused(procurement: Procurement, lot: str) -> None:
    po_id = await procurement.sent_order()

    refused = await post_receipt(procurement, po_id, {"sku": "MUG-1", "quantity": 5, "lot": lot})

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["lines.0.lot"]
    await assert_nothing_received(procurement, po_id)


async def test_an_expiry_that_is_not_a_date_is_refused(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()
    line = {"sku": "MUG-1", "quantity": 5, "lot": "L1", "expires_on": "2031-02-30"}

    refused = await post_receipt(procurement, po_id, line)

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["lines.0.expires_on"]


async def test_a_replayed_lot_receipt_is_announced_once_and_another_lot_under_its_key_refused(
    procurement: Procurement,
) -> None:
    po_id = await procurement.sent_order()
    path = f"/v1/purchase-orders/{po_id}/receipts"
    headers = {"Idempotency-Key": "dock-7-0002"}
    line = {"sku": "MUG-1", "quantity": 10, "lot": "L1", "expires_on": "2031-01-15"}

    first = await procurement.client.post(path, json={"lines": [line]}, headers=headers)
    again = await procurement.client.post(path, json={"lines": [line]}, headers=headers)
    other = await procurement.client.post(
        path, json={"lines": [line | {"lot": "L2"}]}, headers=headers
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert (other.status_code, other.json()["errors"][0]["field"]) == (422, "Idempotency-Key")
    assert [[ln["lot"] for ln in lines] for lines in await received_lines(procurement, po_id)] == [
        ["L1"]
    ]


async def test_a_receipt_s_lots_are_on_its_audit_entry(procurement: Procurement) -> None:
    po_id = await procurement.sent_order()
    lines = [
        {"sku": "MUG-1", "quantity": 5, "lot": "L1", "expires_on": "2031-01-15"},
        {"sku": "PLATE-2", "quantity": 5},
    ]

    await procurement.act(po_id, "receipts", {"lines": lines})

    page = await procurement.get_json("/v1/audit", object_id=po_id)
    [entry] = [e for e in page["items"] if e["action"] == "purchase_order.received"]
    assert entry["after"]["lots"] == {"MUG-1": {"lot": "L1", "expires_on": "2031-01-15"}}
