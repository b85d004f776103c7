"""Service tests: purchase-order receipts that name their lots, applied in the kit's batches as
the broker would deliver them. Their units are booked in those lots and issued first-expiry-
first-out with the rest; a receipt whose lot cannot be booked is dead-lettered whole."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from inventory_harness import Inventory, reserve
from keel_contracts.events import PurchaseOrderReceived, ReceivedLine, ShipmentShipped
from keel_contracts.roles import Role
from keel_contracts.values import Line, Money

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

WES = ("wes", Role.WAREHOUSE)

# (sku, quantity, lot, expires_on)
LotLine = tuple[str, int, str | None, str | None]


def received(po_id: str, receipt_id: str, *lines: LotLine) -> PurchaseOrderReceived:
    return PurchaseOrderReceived(
        purchase_order_id=po_id,
        receipt_id=receipt_id,
        supplier_id="SUP-1",
        location_id="WH-A",
        lines=tuple(
            ReceivedLine(
                sku=sku,
                quantity=n,
                unit_cost=Money(amount=Decimal("2.50"), currency="USD"),
                lot=lot,
                expires_on=date.fromisoformat(expires) if expires else None,
            )
            for sku, n, lot, expires in lines
        ),
        received_at=datetime(2030, 5, 4, tzinfo=UTC),
        complete=False,
    )


async def receive_lot_by_hand(
    inventory: Inventory, quantity: int, lot: str, expires_on: str
) -> None:
    """MUG at WH-A, booked through `POST /v1/receipts`."""
    body = {
        "sku": "MUG",
        "location_id": "WH-A",
        "quantity": quantity,
        "unit_cost": "1.00",
        "reference": f"delivery of {lot}",
        "lot": lot,
        "expires_on": expires_on,
    }
    await inventory.act("/v1/receipts", WES, body, 201)


async def lots_of(inventory: Inventory, sku: str) -> dict[str, dict[str, Any]]:
    """Each lot of `sku`: its expiry and units per location."""
    body = (await inventory.client.get("/v1/lots", params={"sku": sku})).json()
    return {
        lot["lot"]: {
            "expires_on": lot["expires_on"],
            "locations": {where["location_id"]: where["quantity"] for where in lot["locations"]},
        }
        for lot in body["items"]
    }


async def test_a_purchase_order_receipt_books_its_lines_in_their_lots(
    inventory: Inventory,
) -> None:
    applied = await inventory.apply(
        received("PO-1", "R-1", ("MUG", 5, "L-7", "2031-01-15"), ("PLATE", 3, None, None)),
        max_attempts=3,
    )

    assert applied == 1
    assert await lots_of(inventory, "MUG") == {
        "L-7": {"expires_on": "2031-01-15", "locations": {"WH-A": 5}}
    }
    assert await lots_of(inventory, "PLATE") == {}  # its line named no lot
    assert await inventory.stock("MUG") == {"WH-A": (5, 0)}
    recall = (await inventory.client.get("/v1/lots/L-7", params={"sku": "MUG"})).json()
    assert [(r["location_id"], r["quantity"]) for r in recall["received"]] == [("WH-A", 5)]
    await inventory.assert_invariants_hold()


async def test_a_lot_from_a_purchase_order_ships_before_a_later_expiring_one(
    inventory: Inventory,
) -> None:
    await receive_lot_by_hand(inventory, 5, "LATE", "2031-03-01")
    await inventory.apply(received("PO-1", "R-1", ("MUG", 5, "SOON", "2031-01-15")))

    await inventory.publish(reserve("O-1", ("MUG", 6)))
    await inventory.publish(
        ShipmentShipped(
            shipment_id="S-1",
            order_id="O-1",
            location_id="WH-A",
            lines=(Line(sku="MUG", quantity=6),),
            carrier="UPS",
            tracking_number="1Z",
        )
    )

    assert await lots_of(inventory, "MUG") == {
        "SOON": {"expires_on": "2031-01-15", "locations": {}},
        "LATE": {"expires_on": "2031-03-01", "locations": {"WH-A": 4}},
    }
    recall = (await inventory.client.get("/v1/lots/SOON", params={"sku": "MUG"})).json()
    assert [(o["order_id"], o["quantity"]) for o in recall["orders"]] == [("O-1", 5)]
    await inventory.assert_invariants_hold()


async def test_a_redelivered_lot_receipt_books_its_lot_once(inventory: Inventory) -> None:
    receipt = received("PO-1", "R-1", ("MUG", 5, "L-7", "2031-01-15"))

    assert await inventory.apply(receipt, receipt, max_attempts=3) == 2
    await inventory.apply(receipt, max_attempts=3)

    assert (await lots_of(inventory, "MUG"))["L-7"]["locations"] == {"WH-A": 5}
    await inventory.assert_invariants_hold()


async def test_a_lot_known_to_expire_on_another_day_dead_letters_the_whole_receipt(
    inventory: Inventory,
) -> None:
    await receive_lot_by_hand(inventory, 2, "L1", "2031-02-01")
    # PLATE's line comes first and is fine on its own: it must not be booked either.
    clash = received("PO-1", "R-1", ("PLATE", 3, "P1", None), ("MUG", 5, "L1", "2031-05-01"))
    good = received("PO-2", "R-2", ("MUG", 1, "L1", "2031-02-01"))

    applied = await inventory.apply(clash, good, max_attempts=3)

    assert applied == 1
    (error,) = await inventory.dead_letters()
    assert "purchase order PO-1 receipt R-1: lot L1 of MUG expires on 2031-02-01" in error
    assert await inventory.stock("PLATE") == {}
    assert await lots_of(inventory, "PLATE") == {}
    assert await lots_of(inventory, "MUG") == {
        "L1": {"expires_on": "2031-02-01", "locations": {"WH-A": 3}}
    }
    announced = [e.payload["reference"] for e in await inventory.staged("inventory.stock.v1")]
    assert announced == ["delivery of L1", "PO PO-2 receipt R-2"]
    await inventory.assert_invariants_hold()


async def test_a_receipt_line_with_an_expiry_but_no_lot_is_dead_lettered(
    inventory: Inventory,
) -> None:
    applied = await inventory.apply(
        received("PO-1", "R-1", ("MUG", 5, None, "2031-01-15")), max_attempts=3
    )

    assert applied == 0
    (error,) = await inventory.dead_letters()
    assert "purchase order PO-1 receipt R-1: an expiry date belongs to a lot" in error
    assert await inventory.stock("MUG") == {}


async def test_lots_booked_earlier_in_a_batch_are_issued_by_a_shipment_later_in_it(
    inventory: Inventory,
) -> None:
    """The batch first learns that MUG has no lots; its receipt of a lot must undo that, or
    the shipment after it would leave the lot on hand beyond what is sellable."""
    await inventory.receive("MUG", "WH-A", 2)  # without a lot
    shipped = ShipmentShipped(
        shipment_id="S-1",
        order_id="O-GONE",  # its reservation is gone: the goods left all the same
        location_id="WH-A",
        lines=(Line(sku="MUG", quantity=4),),
        carrier="UPS",
        tracking_number="1Z",
    )

    await inventory.apply(received("PO-1", "R-1", ("MUG", 3, "L-1", "2031-01-15")), shipped)

    assert (await lots_of(inventory, "MUG"))["L-1"]["locations"] == {}
    await inventory.assert_invariants_hold()
