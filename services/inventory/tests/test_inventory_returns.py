"""Service tests: the returns service's events applied in the kit's batches. Received units wait
in pending_inspection (not sellable); inspection moves them to sellable, quarantine, damaged or
out of stock, once per (return, SKU), each movement announced as `stock.returned`."""

from __future__ import annotations

from typing import Any

import pytest

from inventory_harness import Inventory, reserve
from keel_contracts.events import Disposition, InspectedLine, ReturnInspected, ReturnReceived
from keel_contracts.values import Line

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def received(return_id: str, *lines: tuple[str, int], location_id: str = "WH-A") -> ReturnReceived:
    return ReturnReceived(
        return_id=return_id,
        order_id=f"ORD-{return_id}",
        location_id=location_id,
        lines=tuple(Line(sku=sku, quantity=n) for sku, n in lines),
    )


def inspected(
    return_id: str, *lines: tuple[str, int, Disposition], location_id: str = "WH-A"
) -> ReturnInspected:
    grades = {"restock": "A", "refurbish": "B", "damaged": "C", "write_off": "D"}
    return ReturnInspected(
        return_id=return_id,
        order_id=f"ORD-{return_id}",
        location_id=location_id,
        lines=tuple(
            InspectedLine(sku=sku, quantity=n, grade=grades[d], disposition=d)
            for sku, n, d in lines
        ),
    )


async def balances(inventory: Inventory, sku: str) -> dict[tuple[str, str], int]:
    """Non-zero balances per (location, state)."""
    response = await inventory.client.get(f"/v1/balances/{sku}")
    assert response.status_code == 200, response.text
    return {
        (b["location_id"], b["state"]): b["quantity"]
        for b in response.json()["balances"]
        if b["quantity"]
    }


async def returned(inventory: Inventory) -> list[dict[str, Any]]:
    """The `stock.returned` payloads, without their movement ids."""
    return [
        {k: v for k, v in e.payload.items() if k != "movement_id"}
        for e in await inventory.staged("inventory.stock.v1")
        if e.type == "stock.returned"
    ]


async def ledger(inventory: Inventory, sku: str) -> list[tuple[str, str, int, str, str]]:
    body = (await inventory.client.get("/v1/ledger", params={"sku": sku})).json()
    return [
        (m["kind"], m["state"], m["quantity"], m["unit_cost"], m["reference"])
        for m in body["items"]
    ]


async def test_a_received_return_waits_in_pending_inspection_and_is_not_sellable(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 1)

    applied = await inventory.apply(
        received("RET-1", ("MUG", 2), ("PLATE", 1), ("MUG", 1)), max_attempts=3
    )

    assert applied == 1
    assert await balances(inventory, "MUG") == {
        ("WH-A", "sellable"): 1,
        ("WH-A", "pending_inspection"): 3,
    }
    assert await balances(inventory, "PLATE") == {("WH-A", "pending_inspection"): 1}
    availability = (await inventory.client.get("/v1/availability/MUG")).json()
    assert availability["available_to_sell"] == 1
    assert await inventory.stock("MUG") == {"WH-A": (1, 0)}
    assert await inventory.stock("PLATE") == {}
    await inventory.apply(reserve("ORD-9", ("PLATE", 1)), max_attempts=3)
    assert [e.type for e in await inventory.answers()] == ["stock.reservation_failed"]
    assert (await ledger(inventory, "PLATE")) == [
        ("return", "pending_inspection", 1, "1.0000", "return RET-1")
    ]
    assert await returned(inventory) == [
        {
            "return_id": "RET-1",
            "order_id": "ORD-RET-1",
            "location_id": "WH-A",
            "sku": sku,
            "quantity": n,
            "state": "pending_inspection",
            "disposition": None,
            "unit_cost": {"amount": "1.0000", "currency": "USD"},
        }
        for sku, n in (("MUG", 3), ("PLATE", 1))
    ]
    await inventory.assert_invariants_hold()


async def test_inspection_moves_each_line_where_its_disposition_says(
    inventory: Inventory,
) -> None:
    await inventory.apply(received("RET-1", ("MUG", 10)), max_attempts=3)

    applied = await inventory.apply(
        inspected(
            "RET-1",
            ("MUG", 4, "restock"),
            ("MUG", 3, "refurbish"),
            ("MUG", 2, "damaged"),
            ("MUG", 1, "write_off"),
        ),
        max_attempts=3,
    )

    assert applied == 1
    assert await balances(inventory, "MUG") == {
        ("WH-A", "sellable"): 4,
        ("WH-A", "quarantine"): 3,
        ("WH-A", "damaged"): 2,
    }
    assert await inventory.stock("MUG") == {"WH-A": (4, 0)}
    # Movements made in one millisecond have no order among themselves (UUIDv7 ids).
    assert sorted(await ledger(inventory, "MUG")) == sorted(
        [
            ("return", "pending_inspection", 10, "1.0000", "return RET-1"),
            ("inspection", "pending_inspection", -4, "1.0000", "return RET-1: restock, grade A"),
            ("inspection", "sellable", 4, "1.0000", "return RET-1: restock, grade A"),
            ("inspection", "pending_inspection", -3, "1.0000", "return RET-1: refurbish, grade B"),
            ("inspection", "quarantine", 3, "1.0000", "return RET-1: refurbish, grade B"),
            ("inspection", "pending_inspection", -2, "1.0000", "return RET-1: damaged, grade C"),
            ("inspection", "damaged", 2, "1.0000", "return RET-1: damaged, grade C"),
            ("write_off", "pending_inspection", -1, "1.0000", "return RET-1: write_off, grade D"),
        ]
    )
    announced = [(e["state"], e["disposition"], e["quantity"]) for e in await returned(inventory)]
    # The outbox keeps the order they were announced in.
    assert announced == [
        ("pending_inspection", None, 10),
        ("sellable", "restock", 4),
        ("quarantine", "refurbish", 3),
        ("damaged", "damaged", 2),
        ("written_off", "write_off", 1),
    ]
    stock_events = {e.type for e in await inventory.staged("inventory.stock.v1")}
    assert stock_events == {"stock.returned"}  # never stock.received: finance would count twice
    await inventory.assert_invariants_hold()


async def test_stock_returned_names_the_movement_that_put_the_units_in_their_state(
    inventory: Inventory,
) -> None:
    await inventory.apply(received("RET-1", ("MUG", 2)), max_attempts=3)
    await inventory.apply(
        inspected("RET-1", ("MUG", 1, "restock"), ("MUG", 1, "write_off")), max_attempts=3
    )

    body = (await inventory.client.get("/v1/ledger", params={"sku": "MUG"})).json()
    by_id = {m["movement_id"]: (m["state"], m["quantity"]) for m in body["items"]}
    events = [e.payload for e in await inventory.staged("inventory.stock.v1")]
    assert [by_id[e["movement_id"]] for e in events] == [
        ("pending_inspection", 2),
        ("sellable", 1),
        ("pending_inspection", -1),  # a write-off: the movement that took the units out
    ]


async def test_a_restocked_return_serves_a_waiting_backorder(inventory: Inventory) -> None:
    await inventory.apply(reserve("ORD-1", ("MUG", 2), backorder=True), max_attempts=3)
    await inventory.apply(received("RET-1", ("MUG", 3)), max_attempts=3)
    assert [e.type for e in await inventory.answers()] == ["stock.reservation_failed"]

    await inventory.apply(
        inspected("RET-1", ("MUG", 2, "restock"), ("MUG", 1, "damaged")), max_attempts=3
    )

    answers = [(e.type, e.payload["order_id"]) for e in await inventory.answers()]
    assert answers == [("stock.reservation_failed", "ORD-1"), ("stock.reserved", "ORD-1")]
    assert (await inventory.client.get("/v1/reservations/ORD-1")).json()["status"] == "held"
    assert await inventory.stock("MUG") == {"WH-A": (2, 2)}
    assert await balances(inventory, "MUG") == {
        ("WH-A", "sellable"): 2,
        ("WH-A", "reserved"): 2,
        ("WH-A", "damaged"): 1,
    }
    await inventory.assert_invariants_hold()


async def test_receipt_and_inspection_in_one_batch_move_the_stock_once(
    inventory: Inventory,
) -> None:
    applied = await inventory.apply(
        received("RET-1", ("MUG", 2)),
        inspected("RET-1", ("MUG", 2, "restock")),
        reserve("ORD-1", ("MUG", 2)),
        max_attempts=3,
    )

    assert applied == 3
    assert await balances(inventory, "MUG") == {("WH-A", "sellable"): 2, ("WH-A", "reserved"): 2}
    assert [e.type for e in await inventory.answers()] == ["stock.reserved"]
    await inventory.assert_invariants_hold()


async def test_inspecting_more_than_was_received_is_dead_lettered_and_moves_nothing(
    inventory: Inventory,
) -> None:
    await inventory.apply(received("RET-1", ("MUG", 2), ("PLATE", 1)), max_attempts=3)

    applied = await inventory.apply(
        inspected("RET-1", ("PLATE", 1, "restock"), ("MUG", 2, "restock"), ("MUG", 1, "damaged")),
        max_attempts=3,
    )

    assert applied == 0
    (error,) = await inventory.dead_letters()
    assert "return RET-1: 3 MUG inspected, but 2 received and 2 pending inspection at WH-A" in error
    assert await balances(inventory, "MUG") == {("WH-A", "pending_inspection"): 2}
    assert await balances(inventory, "PLATE") == {("WH-A", "pending_inspection"): 1}
    assert len(await returned(inventory)) == 2
    await inventory.assert_invariants_hold()


async def test_inspecting_a_return_never_received_is_dead_lettered(inventory: Inventory) -> None:
    await inventory.apply(
        received("RET-1", ("MUG", 5)), max_attempts=3
    )  # another return's units are there

    applied = await inventory.apply(inspected("RET-2", ("MUG", 1, "restock")), max_attempts=3)

    assert applied == 0
    (error,) = await inventory.dead_letters()
    assert "return RET-2: MUG inspected but never received" in error
    assert await balances(inventory, "MUG") == {("WH-A", "pending_inspection"): 5}


async def test_inspecting_at_another_location_than_the_receipt_is_dead_lettered(
    inventory: Inventory,
) -> None:
    await inventory.apply(received("RET-1", ("MUG", 1)), max_attempts=3)

    applied = await inventory.apply(
        inspected("RET-1", ("MUG", 1, "restock"), location_id="WH-B"), max_attempts=3
    )

    assert applied == 0
    (error,) = await inventory.dead_letters()
    assert "return RET-1: MUG was received at WH-A, not at WH-B" in error


async def test_a_return_of_an_unknown_sku_is_dead_lettered_and_moves_nothing(
    inventory: Inventory,
) -> None:
    applied = await inventory.apply(received("RET-1", ("MUG", 1), ("NOPE", 1)), max_attempts=3)

    assert applied == 0
    (error,) = await inventory.dead_letters()
    assert "return RET-1: unknown sku NOPE" in error
    assert await balances(inventory, "MUG") == {}


async def test_a_return_redelivered_under_new_event_ids_moves_nothing_twice(
    inventory: Inventory,
) -> None:
    receipt = received("RET-1", ("MUG", 3))
    inspection = inspected("RET-1", ("MUG", 2, "restock"), ("MUG", 1, "refurbish"))
    await inventory.apply(receipt, receipt, max_attempts=3)
    await inventory.apply(inspection, max_attempts=3)

    # Envelope.wrap gives each delivery its own event id: the inbox cannot tell them apart.
    applied = await inventory.apply(receipt, inspection, inspection, max_attempts=3)

    assert applied == 3
    assert await inventory.dead_letters() == []
    assert await balances(inventory, "MUG") == {("WH-A", "sellable"): 2, ("WH-A", "quarantine"): 1}
    assert len(await ledger(inventory, "MUG")) == 5
    assert len(await returned(inventory)) == 3
    await inventory.assert_invariants_hold()


async def test_balances_of_an_unknown_sku_are_not_found(inventory: Inventory) -> None:
    assert (await inventory.client.get("/v1/balances/NOPE")).status_code == 404
