"""Service tests: reservation commands through inventory's real subscriber and (SQLite)
database, fed by FastStream's in-memory broker; answers read from the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from inventory_harness import Inventory, reserve
from keel_contracts import Envelope, Message
from keel_contracts.commands import ReleaseStock
from keel_contracts.events import StockReservationFailed, StockReserved
from keel_inventory.models import StockMovement
from keel_kit.tables import utcnow

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def payload(envelope: Envelope, model: type[Message]) -> Any:
    assert envelope.type == model.type, envelope
    return envelope.payload


def allocations(envelope: Envelope) -> list[tuple[str, str, int]]:
    body = payload(envelope, StockReserved)
    return [(a["location_id"], a["sku"], a["quantity"]) for a in body["allocations"]]


async def test_order_is_held_at_the_one_location_that_covers_every_line(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 10)
    await inventory.receive("PLATE", "WH-A", 1)
    await inventory.receive("MUG", "WH-B", 3)
    await inventory.receive("PLATE", "WH-B", 5)

    await inventory.publish(reserve("O-1", ("MUG", 2), ("PLATE", 2)))

    (answer,) = await inventory.answers()
    assert allocations(answer) == [("WH-B", "MUG", 2), ("WH-B", "PLATE", 2)]
    assert answer.correlation_id == "O-1"
    assert await inventory.stock("MUG") == {"WH-A": (10, 0), "WH-B": (3, 2)}
    assert await inventory.stock("PLATE") == {"WH-A": (1, 0), "WH-B": (5, 2)}
    view = (await inventory.client.get("/v1/reservations/O-1")).json()
    assert view["status"] == "held"
    assert view["reservation_id"] == answer.payload["reservation_id"]
    assert view["lines"] == [{"sku": "MUG", "quantity": 2}, {"sku": "PLATE", "quantity": 2}]
    await inventory.assert_invariants_hold()


async def test_order_no_single_location_covers_is_split_most_stock_first(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 3)
    await inventory.receive("MUG", "WH-B", 4)

    await inventory.publish(reserve("O-1", ("MUG", 6)))

    (answer,) = await inventory.answers()
    assert allocations(answer) == [("WH-B", "MUG", 4), ("WH-A", "MUG", 2)]
    assert await inventory.stock("MUG") == {"WH-A": (3, 2), "WH-B": (4, 4)}
    assert (await inventory.client.get("/v1/availability/MUG")).json()["available_to_sell"] == 1
    await inventory.assert_invariants_hold()


async def test_order_that_cannot_be_covered_holds_nothing(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 5)
    await inventory.receive("PLATE", "WH-A", 1)

    await inventory.publish(reserve("O-1", ("MUG", 2), ("PLATE", 3)))

    (answer,) = await inventory.answers()
    body = payload(answer, StockReservationFailed)
    assert body["short_lines"] == [{"sku": "PLATE", "quantity": 2}]
    assert body["waiting"] is False
    assert await inventory.stock("MUG") == {"WH-A": (5, 0)}
    assert (await inventory.client.get("/v1/reservations/O-1")).status_code == 404
    await inventory.assert_invariants_hold()


async def test_last_unit_goes_to_the_first_order_only(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 1)

    await inventory.publish(reserve("O-1", ("MUG", 1)))
    await inventory.publish(reserve("O-2", ("MUG", 1)))

    first, second = await inventory.answers()
    assert first.type == "stock.reserved"
    assert second.type == "stock.reservation_failed"
    assert await inventory.stock("MUG") == {"WH-A": (1, 1)}


async def test_receipt_serves_backorders_oldest_first(inventory: Inventory) -> None:
    await inventory.publish(reserve("O-1", ("MUG", 3), backorder=True))
    await inventory.publish(reserve("O-2", ("MUG", 2), backorder=True))
    await inventory.publish(reserve("O-3", ("MUG", 1), backorder=True))
    waiting = await inventory.answers()
    assert [payload(e, StockReservationFailed)["waiting"] for e in waiting] == [
        True,
        True,
        True,
    ]

    await inventory.receive("MUG", "WH-A", 4)

    served = (await inventory.answers())[3:]
    assert [(e.type, e.payload["order_id"]) for e in served] == [
        ("stock.reserved", "O-1"),
        ("stock.reserved", "O-3"),
    ]
    assert allocations(served[0]) == [("WH-A", "MUG", 3)]
    assert served[1].correlation_id == "O-3"
    assert (await inventory.client.get("/v1/reservations/O-2")).json()["status"] == "waiting"
    assert await inventory.stock("MUG") == {"WH-A": (4, 4)}

    await inventory.receive("MUG", "WH-B", 2)

    (last,) = (await inventory.answers())[5:]
    assert (last.payload["order_id"], allocations(last)) == ("O-2", [("WH-B", "MUG", 2)])
    assert (await inventory.client.get("/v1/reservations/O-2")).json()["status"] == "held"
    await inventory.assert_invariants_hold()


async def test_repeated_backorder_request_keeps_one_place_in_the_queue(
    inventory: Inventory,
) -> None:
    await inventory.publish(reserve("O-1", ("MUG", 1), backorder=True))
    await inventory.publish(reserve("O-1", ("MUG", 1), backorder=True))
    await inventory.publish(reserve("O-2", ("MUG", 1), backorder=True))

    await inventory.receive("MUG", "WH-A", 1)

    reserved = [e for e in await inventory.answers() if e.type == "stock.reserved"]
    assert [e.payload["order_id"] for e in reserved] == ["O-1"]
    assert (await inventory.client.get("/v1/reservations/O-2")).json()["status"] == "waiting"


async def test_release_gives_stock_back_and_a_repeat_says_nothing(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 2)
    await inventory.publish(reserve("O-1", ("MUG", 2)))
    (held,) = await inventory.answers()

    await inventory.publish(ReleaseStock(order_id="O-1", reason="cancelled"))
    await inventory.publish(ReleaseStock(order_id="O-1", reason="cancelled"))

    answers = await inventory.answers()
    assert [e.type for e in answers] == ["stock.reserved", "stock.released"]
    assert answers[1].payload == {
        "order_id": "O-1",
        "reservation_id": held.payload["reservation_id"],
        "reason": "cancelled",
        "expired": False,
    }
    assert await inventory.stock("MUG") == {"WH-A": (2, 0)}
    assert (await inventory.client.get("/v1/reservations/O-1")).json()["status"] == "released"
    async with inventory.db.transaction() as session:
        kinds = (
            await session.exec(
                select(StockMovement.kind, StockMovement.quantity)
                .where(StockMovement.state == "reserved")
                .order_by(col(StockMovement.movement_id))
            )
        ).all()
    assert kinds == [("reservation", 2), ("release", -2)]
    await inventory.assert_invariants_hold()


async def test_release_withdraws_a_queued_request(inventory: Inventory) -> None:
    await inventory.publish(reserve("O-1", ("MUG", 1), backorder=True))

    await inventory.publish(ReleaseStock(order_id="O-1", reason="cancelled"))
    await inventory.receive("MUG", "WH-A", 5)

    answers = await inventory.answers()
    assert [e.type for e in answers] == ["stock.reservation_failed", "stock.released"]
    assert answers[1].payload["reservation_id"] == ""
    assert await inventory.stock("MUG") == {"WH-A": (5, 0)}
    assert (await inventory.client.get("/v1/reservations/O-1")).status_code == 404


async def test_released_stock_serves_the_backorder_queue(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 1)
    await inventory.publish(reserve("O-1", ("MUG", 1)))
    await inventory.publish(reserve("O-2", ("MUG", 1), backorder=True))

    await inventory.publish(ReleaseStock(order_id="O-1", reason="cancelled"))

    answers = await inventory.answers()
    assert [(e.type, e.payload["order_id"]) for e in answers] == [
        ("stock.reserved", "O-1"),
        ("stock.reservation_failed", "O-2"),
        ("stock.released", "O-1"),
        ("stock.reserved", "O-2"),
    ]
    assert answers[3].correlation_id == "O-2"
    assert await inventory.stock("MUG") == {"WH-A": (1, 1)}


async def test_repeated_request_announces_the_same_reservation_and_holds_nothing_more(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 5)

    await inventory.publish(reserve("O-1", ("MUG", 2)))
    await inventory.publish(reserve("O-1", ("MUG", 2)))

    first, again = await inventory.answers()
    assert first.event_id != again.event_id
    assert again.type == "stock.reserved"
    assert again.payload == first.payload
    assert await inventory.stock("MUG") == {"WH-A": (5, 2)}


async def test_order_released_earlier_can_hold_stock_again(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 5)
    await inventory.publish(reserve("O-1", ("MUG", 2)))
    await inventory.publish(ReleaseStock(order_id="O-1", reason="on hold"))

    await inventory.publish(reserve("O-1", ("MUG", 3)))

    first, _, again = await inventory.answers()
    assert again.payload["reservation_id"] == first.payload["reservation_id"]
    assert allocations(again) == [("WH-A", "MUG", 3)]
    view = (await inventory.client.get("/v1/reservations/O-1")).json()
    assert (view["status"], view["lines"]) == ("held", [{"sku": "MUG", "quantity": 3}])
    assert await inventory.stock("MUG") == {"WH-A": (5, 3)}
    await inventory.assert_invariants_hold()


async def test_expiry_job_releases_reservations_past_their_time(inventory: Inventory) -> None:
    await inventory.receive("MUG", "WH-A", 5)
    await inventory.publish(reserve("O-1", ("MUG", 2)))
    await inventory.publish(reserve("O-2", ("MUG", 1)))
    first, _ = await inventory.answers()
    ttl = inventory.context.reservation_ttl
    assert ttl == timedelta(seconds=1800)

    assert await inventory.expire_due() == 0

    later = utcnow() + ttl + timedelta(seconds=1)
    assert await inventory.expire_due(at=later, limit=1) == 1

    (released,) = (await inventory.answers())[2:]
    assert released.type == "stock.released"
    assert released.payload == {
        "order_id": "O-1",
        "reservation_id": first.payload["reservation_id"],
        "reason": "expired",
        "expired": True,
    }
    assert (await inventory.client.get("/v1/reservations/O-1")).json()["status"] == "expired"
    assert (await inventory.client.get("/v1/reservations/O-2")).json()["status"] == "held"
    assert await inventory.stock("MUG") == {"WH-A": (5, 1)}

    await inventory.publish(ReleaseStock(order_id="O-1", reason="cancelled"))
    assert len(await inventory.answers()) == 3
    await inventory.assert_invariants_hold()
