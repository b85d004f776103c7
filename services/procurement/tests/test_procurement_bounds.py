"""Service tests: a purchase order, receipt or date the services downstream could not carry is
a 422 at the door, naming the field (keel_contracts.limits)."""

from __future__ import annotations

from typing import Any

import pytest

from procurement_harness import ORDER, Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

# A million units at the dearest unit cost: 99,999,999,999,900.00, one amount's worth.
FULL_LINE = {"quantity": 1_000_000, "unit_cost": "99999999.9999"}


def order_with(*lines: dict[str, Any]) -> dict[str, Any]:
    return {**ORDER, "lines": list(lines)}


async def refused_fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # Two full lines: each fits one amount, their total does not.
        (order_with({"sku": "MUG-1", **FULL_LINE}, {"sku": "PLATE-2", **FULL_LINE}), "lines"),
        (
            order_with({"sku": "MUG-1", "quantity": 1, "unit_cost": "100000000"}),
            "lines.0.unit_cost",
        ),
        (order_with({"sku": "MUG-1", "quantity": 1_000_001, "unit_cost": "1"}), "lines.0.quantity"),
    ],
)
async def test_a_purchase_order_the_ledger_cannot_carry_is_a_422_naming_the_field(
    procurement: Procurement, body: dict[str, Any], field: str
) -> None:
    response = await procurement.client.post("/v1/purchase-orders", json=body)

    assert await refused_fields(response) == [field]


async def test_the_dearest_single_line_purchase_order_is_drafted(procurement: Procurement) -> None:
    po = await procurement.draft(order_with({"sku": "MUG-1", **FULL_LINE}))

    assert po["total"] == "99999999999900.00"


async def test_a_receipt_beyond_what_one_line_carries_is_a_422(procurement: Procurement) -> None:
    # A million ordered; the 5% over-receipt tolerance would let 1,000,010 arrive at once, more
    # than a line of purchase_order.received (and so one booking in inventory) carries.
    po_id = await procurement.sent_order(
        order_with({"sku": "MUG-1", "quantity": 1_000_000, "unit_cost": "0.0001"})
    )
    lines = [{"sku": "MUG-1", "quantity": 1_000_000}, {"sku": "MUG-1", "quantity": 10}]

    response = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/receipts", json={"lines": lines}
    )

    assert await refused_fields(response) == ["lines.0.quantity"]
    assert (await procurement.po(po_id))["lines"][0]["received_quantity"] == 0


@pytest.mark.parametrize("expected_date", ["9999-12-31", "0001-01-01", "3000-01-01"])
async def test_an_expected_date_outside_business_years_is_a_422(
    procurement: Procurement, expected_date: str
) -> None:
    po_id = await procurement.sent_order()

    response = await procurement.client.post(
        f"/v1/purchase-orders/{po_id}/confirm", json={"expected_date": expected_date}
    )

    assert await refused_fields(response) == ["expected_date"]
    assert (await procurement.po(po_id))["status"] == "sent"


async def test_a_name_with_a_control_character_is_a_422(procurement: Procurement) -> None:
    supplier = {"supplier_id": "BELL", "name": "Bell\x07 & Co", "lead_time_days": 3}

    response = await procurement.client.post("/v1/suppliers", json=supplier)

    assert await refused_fields(response) == ["name"]
