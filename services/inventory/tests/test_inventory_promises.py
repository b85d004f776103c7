"""Service tests of available to promise: stock first, then purchase orders still to come by
their expected dates after what the backorder queue waits for, each weighed by its supplier's
measured punctuality."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from inventory_harness import Inventory, reserve
from keel_contracts.events import ChannelRegistered, PurchaseOrderConfirmed, SupplierRated
from keel_contracts.values import Line

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

TODAY = datetime.now(UTC).date()


def confirmed(po_id: str, supplier: str, units: int, expected: str) -> PurchaseOrderConfirmed:
    return PurchaseOrderConfirmed(
        purchase_order_id=po_id,
        supplier_id=supplier,
        location_id="WH-B",
        lines=(Line(sku="MUG", quantity=units),),
        expected_at=datetime.fromisoformat(expected).replace(tzinfo=UTC),
    )


def rated(supplier: str, on_time_rate: str) -> SupplierRated:
    return SupplierRated(
        supplier_id=supplier, orders_measured=10, on_time_rate=Decimal(on_time_rate)
    )


async def promised(inventory: Inventory, quantity: int, **params: str) -> dict[str, Any]:
    response = await inventory.client.get(
        "/v1/availability/MUG/promise", params={"quantity": quantity, **params}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_stock_on_hand_is_promised_today_for_certain(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 5)

    body = await promised(inventory, 5)

    assert (body["date"], body["confidence"], body["short"]) == (TODAY.isoformat(), "1.0000", 0)
    assert body["sources"] == [
        {
            "kind": "stock",
            "quantity": 5,
            "purchase_order_id": None,
            "location_id": None,
            "expected_date": None,
            "supplier_id": None,
            "on_time_rate": None,
        }
    ]


async def test_inbound_goods_count_by_date_after_the_queue_weighed_by_their_supplier(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 2)
    await inventory.publish(confirmed("PO-LATE", "SLOW", 10, "2030-06-01"))
    await inventory.publish(confirmed("PO-SOON", "FAST", 4, "2030-05-01"))
    await inventory.publish(
        SupplierRated(supplier_id="FAST", orders_measured=10, on_time_rate=Decimal("0.9"))
    )
    await inventory.publish(
        SupplierRated(supplier_id="SLOW", orders_measured=4, on_time_rate=Decimal("0.25"))
    )

    # 2 from stock and 4 from the early order: its date, as sure as its supplier.
    early = await promised(inventory, 6)
    assert (early["date"], early["confidence"]) == ("2030-05-01", "0.9000")
    assert [(s["kind"], s["quantity"], s["purchase_order_id"]) for s in early["sources"]] == [
        ("stock", 2, None),
        ("purchase_order", 4, "PO-SOON"),
    ]

    # An order of 5 waits in the queue (it took the 2 in stock): the early goods go to it first.
    await inventory.publish(reserve("O-1", ("MUG", 2)))
    await inventory.publish(reserve("O-2", ("MUG", 5), backorder=True))
    late = await promised(inventory, 3)
    assert (late["date"], late["confidence"]) == ("2030-06-01", "0.2500")
    assert [(s["purchase_order_id"], s["quantity"]) for s in late["sources"]] == [("PO-LATE", 3)]


async def test_what_nothing_covers_has_no_date(inventory: Inventory) -> None:
    await inventory.publish(confirmed("PO-1", "NEW", 4, "2030-05-01"))  # never measured

    body = await promised(inventory, 10)

    assert (body["date"], body["confidence"], body["short"]) == (None, "0.0000", 6)
    assert [s["on_time_rate"] for s in body["sources"]] == [None]


async def test_a_promise_asks_a_quantity_of_a_known_sku(inventory: Inventory) -> None:
    bad: list[dict[str, str | int]] = [
        {"quantity": 0},
        {"quantity": "x"},
        {},
        {"quantity": 1, "channel": "a b"},
    ]
    for params in bad:
        response = await inventory.client.get("/v1/availability/MUG/promise", params=params)
        assert response.status_code == 422, (params, response.text)
    unknown = await inventory.client.get("/v1/availability/NOPE/promise", params={"quantity": 1})
    assert unknown.status_code == 404


async def test_a_backordered_order_is_told_when_the_goods_on_order_cover_it(
    inventory: Inventory,
) -> None:
    await inventory.publish(confirmed("PO-1", "FAST", 10, "2030-05-01"))
    await inventory.publish(reserve("O-1", ("MUG", 3), backorder=True))
    await inventory.publish(reserve("O-2", ("MUG", 8), backorder=True))  # 3 ahead of it: 11
    await inventory.publish(reserve("O-3", ("MUG", 2)))  # not waiting: no promise

    answers = {a.correlation_id: a.payload for a in await inventory.answers()}
    assert answers["O-1"]["promise_date"] == "2030-05-01"
    assert answers["O-2"]["promise_date"] is None  # PO-1 does not cover it
    assert (answers["O-3"]["waiting"], answers["O-3"]["promise_date"]) == (False, None)


async def test_a_capped_channel_is_promised_inbound_goods_only_within_its_cap(
    inventory: Inventory,
) -> None:
    await inventory.publish(ChannelRegistered(channel_id="market", name="M", market_country="US"))
    capped = await inventory.client.put("/v1/allocations/market", json={"cap_percent": 50})
    assert capped.status_code == 200, capped.text
    await inventory.receive("MUG", "WH-A", 10)
    await inventory.publish(confirmed("PO-SOON", "FAST", 4, "2030-05-01"))
    await inventory.publish(confirmed("PO-LATE", "FAST", 10, "2030-06-01"))

    # Half of the 10 on hand now, half of 14 once the early goods are in (2 of them): 9 units
    # wait for the later goods, and half of all 24 (12) is the most the channel may have.
    assert [
        (s["kind"], s["quantity"])
        for s in (await promised(inventory, 7, channel="market"))["sources"]
    ] == [("stock", 5), ("purchase_order", 2)]
    later = await promised(inventory, 9, channel="market")
    assert later["date"] == "2030-06-01"
    assert [s["quantity"] for s in later["sources"]] == [5, 2, 2]
    beyond = await promised(inventory, 13, channel="market")
    assert (beyond["date"], beyond["short"]) == (None, 1)
    everyone = await promised(inventory, 13)  # an uncapped channel is not held back
    assert everyone["date"] == "2030-05-01"
