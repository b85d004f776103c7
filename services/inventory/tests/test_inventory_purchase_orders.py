"""Service tests: procurement's purchase-order events applied in the kit's batches, as the broker
would deliver them: confirmed orders are on order (not sellable), receipts become sellable stock
once per (receipt, SKU), and what is cancelled or closed leaves on-order stock."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from inventory_harness import Inventory, reserve
from keel_contracts.events import (
    PurchaseOrderCancelled,
    PurchaseOrderClosed,
    PurchaseOrderConfirmed,
    PurchaseOrderReceived,
    ReceivedLine,
)
from keel_contracts.values import Line, Money

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def confirmed(
    po_id: str, *lines: tuple[str, int], location_id: str = "WH-A", expected: str = "2030-05-04"
) -> PurchaseOrderConfirmed:
    return PurchaseOrderConfirmed(
        purchase_order_id=po_id,
        supplier_id="SUP-1",
        location_id=location_id,
        lines=tuple(Line(sku=sku, quantity=n) for sku, n in lines),
        expected_at=datetime.fromisoformat(expected).replace(tzinfo=UTC),
    )


def received(
    po_id: str,
    receipt_id: str,
    *lines: tuple[str, int, str],
    location_id: str = "WH-A",
    currency: str = "USD",
    complete: bool = False,
) -> PurchaseOrderReceived:
    return PurchaseOrderReceived(
        purchase_order_id=po_id,
        receipt_id=receipt_id,
        supplier_id="SUP-1",
        location_id=location_id,
        lines=tuple(
            ReceivedLine(
                sku=sku, quantity=n, unit_cost=Money(amount=Decimal(cost), currency=currency)
            )
            for sku, n, cost in lines
        ),
        received_at=datetime(2030, 5, 4, tzinfo=UTC),
        complete=complete,
    )


async def receipts_announced(inventory: Inventory) -> list[dict[str, Any]]:
    return [e.payload for e in await inventory.staged("inventory.stock.v1")]


async def locations(inventory: Inventory, sku: str) -> dict[str, dict[str, Any]]:
    response = await inventory.client.get(f"/v1/availability/{sku}")
    assert response.status_code == 200, response.text
    return {loc.pop("location_id"): loc for loc in response.json()["locations"]}


async def test_a_received_purchase_order_becomes_sellable_stock_at_its_location(
    inventory: Inventory,
) -> None:
    applied = await inventory.apply(
        received("PO-1", "R-1", ("MUG", 5, "2.50"), ("PLATE", 3, "4.00")), max_attempts=3
    )

    assert applied == 1
    assert await inventory.stock("MUG") == {"WH-A": (5, 0)}
    assert await inventory.stock("PLATE") == {"WH-A": (3, 0)}
    ledger = (await inventory.client.get("/v1/ledger", params={"sku": "MUG"})).json()["items"]
    assert [(m["kind"], m["quantity"], m["unit_cost"], m["reference"]) for m in ledger] == [
        ("receipt", 5, "2.5000", "PO PO-1 receipt R-1")
    ]
    await inventory.assert_invariants_hold()


async def test_a_purchase_order_receipt_announces_stock_received_marked_with_the_order(
    inventory: Inventory,
) -> None:
    await inventory.apply(received("PO-1", "R-1", ("MUG", 5, "2.50")), max_attempts=3)
    await inventory.receive("PLATE", "WH-B", 2)  # through the API: no purchase order

    by_po, by_api = await receipts_announced(inventory)
    assert {k: v for k, v in by_po.items() if k != "movement_id"} == {
        "sku": "MUG",
        "location_id": "WH-A",
        "quantity": 5,
        "unit_cost": {"amount": "2.50", "currency": "USD"},
        "reference": "PO PO-1 receipt R-1",
        "purchase_order_id": "PO-1",
    }
    assert (by_api["sku"], by_api["purchase_order_id"]) == ("PLATE", None)


async def test_a_received_purchase_order_serves_a_waiting_backorder(
    inventory: Inventory,
) -> None:
    await inventory.apply(
        reserve("ORD-1", ("MUG", 2), ("PLATE", 1), backorder=True), max_attempts=3
    )

    await inventory.apply(
        received("PO-1", "R-1", ("MUG", 5, "2.50"), ("PLATE", 3, "4.00")), max_attempts=3
    )

    answers = [(e.type, e.payload["order_id"]) for e in await inventory.answers()]
    assert answers == [("stock.reservation_failed", "ORD-1"), ("stock.reserved", "ORD-1")]
    reservation = (await inventory.client.get("/v1/reservations/ORD-1")).json()
    assert reservation["status"] == "held"
    assert await inventory.stock("MUG") == {"WH-A": (5, 2)}
    assert await inventory.stock("PLATE") == {"WH-A": (3, 1)}
    await inventory.assert_invariants_hold()


async def test_the_same_receipt_redelivered_under_a_new_event_id_books_nothing_twice(
    inventory: Inventory,
) -> None:
    await inventory.apply(confirmed("PO-1", ("MUG", 10)), max_attempts=3)
    receipt = received("PO-1", "R-1", ("MUG", 4, "2.50"))
    await inventory.apply(receipt, max_attempts=3)

    # Envelope.wrap gives each delivery its own event id: the inbox cannot tell them apart.
    applied = await inventory.apply(receipt, receipt, max_attempts=3)

    assert applied == 2
    assert await inventory.stock("MUG") == {"WH-A": (4, 0)}
    assert len(await receipts_announced(inventory)) == 1
    assert (await locations(inventory, "MUG"))["WH-A"]["on_order"] == 6
    await inventory.assert_invariants_hold()


async def test_a_redelivered_receipt_in_the_same_batch_as_the_first_books_once(
    inventory: Inventory,
) -> None:
    receipt = received("PO-1", "R-1", ("MUG", 4, "2.50"))

    assert await inventory.apply(receipt, receipt, max_attempts=3) == 2

    assert await inventory.stock("MUG") == {"WH-A": (4, 0)}
    assert len(await receipts_announced(inventory)) == 1


async def test_a_second_receipt_of_the_same_order_is_booked_too(inventory: Inventory) -> None:
    await inventory.apply(received("PO-1", "R-1", ("MUG", 4, "2.50")), max_attempts=3)

    await inventory.apply(received("PO-1", "R-2", ("MUG", 6, "2.50")), max_attempts=3)

    assert await inventory.stock("MUG") == {"WH-A": (10, 0)}
    assert len(await receipts_announced(inventory)) == 2


async def test_a_confirmed_purchase_order_is_on_order_and_not_sellable(
    inventory: Inventory,
) -> None:
    await inventory.apply(confirmed("PO-1", ("MUG", 10), location_id="WH-B"), max_attempts=3)

    body = (await inventory.client.get("/v1/availability/MUG")).json()
    assert body == {
        "sku": "MUG",
        "available_to_sell": 0,
        "locations": [
            {
                "location_id": "WH-B",
                "sellable": 0,
                "reserved": 0,
                "available": 0,
                "on_order": 10,
                "next_expected_date": "2030-05-04",
                "in_transit": 0,
            }
        ],
    }
    await inventory.apply(reserve("ORD-1", ("MUG", 1)), max_attempts=3)
    assert [e.type for e in await inventory.answers()] == ["stock.reservation_failed"]
    await inventory.assert_invariants_hold()


async def test_on_order_stands_beside_sellable_stock_and_shows_the_earliest_date(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 3)

    await inventory.apply(
        confirmed("PO-1", ("MUG", 10), expected="2030-06-01"),
        confirmed("PO-2", ("MUG", 5), expected="2030-05-15"),
        max_attempts=3,
    )

    assert await locations(inventory, "MUG") == {
        "WH-A": {
            "sellable": 3,
            "reserved": 0,
            "available": 3,
            "on_order": 15,
            "next_expected_date": "2030-05-15",
            "in_transit": 0,
        }
    }
    assert (await inventory.client.get("/v1/availability/MUG")).json()["available_to_sell"] == 3


async def test_a_receipt_takes_what_arrived_off_order_and_never_below_zero(
    inventory: Inventory,
) -> None:
    await inventory.apply(confirmed("PO-1", ("MUG", 10), ("PLATE", 2)), max_attempts=3)

    await inventory.apply(received("PO-1", "R-1", ("MUG", 4, "2.50")), max_attempts=3)
    after_first = await locations(inventory, "MUG")
    await inventory.apply(
        received("PO-1", "R-2", ("MUG", 7, "2.50"), ("PLATE", 2, "1.00")), max_attempts=3
    )

    assert after_first["WH-A"]["on_order"] == 6
    assert await locations(inventory, "MUG") == {
        "WH-A": {
            "sellable": 11,
            "reserved": 0,
            "available": 11,
            "on_order": 0,
            "next_expected_date": None,
            "in_transit": 0,
        }
    }
    assert (await locations(inventory, "PLATE"))["WH-A"]["on_order"] == 0


async def test_a_receipt_completing_the_order_short_clears_what_will_not_come(
    inventory: Inventory,
) -> None:
    await inventory.apply(confirmed("PO-1", ("MUG", 100), ("PLATE", 2)), max_attempts=3)

    # 95 of 100 fills the line within procurement's under-receipt tolerance: complete.
    await inventory.apply(
        received("PO-1", "R-1", ("MUG", 95, "2.50"), ("PLATE", 2, "1.00"), complete=True),
        max_attempts=3,
    )

    mug = (await locations(inventory, "MUG"))["WH-A"]
    assert (mug["sellable"], mug["on_order"], mug["next_expected_date"]) == (95, 0, None)


async def test_a_cancelled_purchase_order_clears_its_on_order(inventory: Inventory) -> None:
    await inventory.apply(
        confirmed("PO-1", ("MUG", 10)), confirmed("PO-2", ("MUG", 2)), max_attempts=3
    )

    await inventory.apply(
        PurchaseOrderCancelled(
            purchase_order_id="PO-1", supplier_id="SUP-1", location_id="WH-A", reason="late"
        ),
        max_attempts=3,
    )
    await inventory.apply(
        confirmed("PO-1", ("MUG", 10)), max_attempts=3
    )  # redelivered: stays cancelled

    assert (await locations(inventory, "MUG"))["WH-A"]["on_order"] == 2


async def test_a_closed_purchase_order_clears_what_never_came(inventory: Inventory) -> None:
    await inventory.apply(confirmed("PO-1", ("MUG", 10)), max_attempts=3)
    await inventory.apply(received("PO-1", "R-1", ("MUG", 4, "2.50")), max_attempts=3)

    await inventory.apply(
        PurchaseOrderClosed(
            purchase_order_id="PO-1",
            supplier_id="SUP-1",
            location_id="WH-A",
            short_lines=(Line(sku="MUG", quantity=6),),
        ),
        max_attempts=3,
    )

    assert await locations(inventory, "MUG") == {
        "WH-A": {
            "sellable": 4,
            "reserved": 0,
            "available": 4,
            "on_order": 0,
            "next_expected_date": None,
            "in_transit": 0,
        }
    }


async def test_a_receipt_of_an_unknown_sku_is_dead_lettered_and_books_nothing(
    inventory: Inventory,
) -> None:
    good = received("PO-2", "R-2", ("PLATE", 1, "1.00"))

    applied = await inventory.apply(
        received("PO-1", "R-1", ("MUG", 5, "2.50"), ("NOPE", 1, "1.00")), good, max_attempts=3
    )

    assert applied == 1
    (error,) = await inventory.dead_letters()
    assert "purchase order PO-1 receipt R-1: unknown sku NOPE" in error
    assert await inventory.stock("MUG") == {}
    assert await inventory.stock("PLATE") == {"WH-A": (1, 0)}
    await inventory.assert_invariants_hold()


async def test_a_receipt_at_an_unknown_location_is_dead_lettered(inventory: Inventory) -> None:
    applied = await inventory.apply(
        received("PO-1", "R-1", ("MUG", 5, "2.50"), location_id="WH-Z"), max_attempts=3
    )

    assert applied == 0
    (error,) = await inventory.dead_letters()
    assert "purchase order PO-1 receipt R-1: unknown location WH-Z" in error
    assert await receipts_announced(inventory) == []


async def test_a_receipt_costed_in_another_currency_than_the_item_is_dead_lettered(
    inventory: Inventory,
) -> None:
    applied = await inventory.apply(
        received("PO-1", "R-1", ("MUG", 5, "2.50"), currency="EUR"), max_attempts=3
    )

    assert applied == 0
    (error,) = await inventory.dead_letters()
    assert "MUG costs EUR, the item is valued in USD" in error


async def test_a_confirmed_order_of_an_unknown_sku_is_dead_lettered(inventory: Inventory) -> None:
    applied = await inventory.apply(confirmed("PO-1", ("MUG", 1), ("NOPE", 1)), max_attempts=3)

    assert applied == 0
    (error,) = await inventory.dead_letters()
    assert "purchase order PO-1: unknown sku NOPE" in error
    assert await locations(inventory, "MUG") == {}
