"""Service tests: released and cancelled orders applied in the kit's batches, whose new shipments
are staged as rows and written at the end, end exactly where the same messages applied one at a
time end: the same shipments, lines and messages, a repeat planning nothing new and a
cancellation finding the shipments an earlier message of its batch planned."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from test_fulfillment import Stack, released

from keel_contracts import Envelope, Message
from keel_contracts.events import OrderCancelled, OrderReleased
from keel_fulfillment import service
from keel_fulfillment.context import Work
from keel_fulfillment.main import create_app
from keel_fulfillment.settings import Settings
from keel_kit import testing
from keel_kit.handlers import PermanentError
from keel_kit.testing import running, selects, statements_run

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

ORDERS = ("A", "B", "C", "D", "BAD")


@asynccontextmanager
async def started(folder: Path, name: str) -> AsyncIterator[Stack]:
    settings = Settings(state_dir=folder, database_url=f"sqlite+aiosqlite:///{folder / name}.db")
    async with running(create_app(settings), Stack) as stack:
        yield stack


async def stage_nothing(_stack: Stack) -> None:
    return None


async def outcome(stack: Stack) -> dict[str, Any]:
    """Every order's shipments and every message sent, shipment ids (new on every run) left
    out."""
    shipments = {
        order_id: [
            (s["location_id"], s["status"], s["lines"]) for s in await stack.shipments(order_id)
        ]
        for order_id in ORDERS
    }
    sent = [
        (e.type, {k: v for k, v in e.payload.items() if k != "shipment_id"})
        for e in await stack.staged("fulfillment.shipment.v1")
    ]
    return {"shipments": shipments, "sent": sent, "dead_letters": await stack.dead_letters()}


async def batched_and_one_by_one(
    tmp_path: Path, messages: Sequence[Message]
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    return await testing.batched_and_one_by_one(
        lambda name: started(tmp_path, name), messages, stage=stage_nothing, outcome=outcome
    )


async def test_a_batch_of_releases_and_cancels_ends_where_one_at_a_time_ends(
    tmp_path: Path,
) -> None:
    messages = (
        released("A", ("WH-A", "X", 2), ("WH-B", "X", 1), ("WH-A", "Y", 1)),
        released("B", ("WH-A", "X", 1)),
        released("A", ("WH-A", "X", 2), ("WH-B", "X", 1), ("WH-A", "Y", 1)),  # a repeat
        OrderCancelled(order_id="B", reason="customer asked"),  # planned in this batch
        released("B", ("WH-A", "X", 1)),  # a repeat after its cancellation
        OrderCancelled(order_id="C", reason="never released"),
        released("D", ("WH-B", "Z", 3)),
    )

    batched, one_by_one, isolated = await batched_and_one_by_one(tmp_path, messages)

    assert not isolated  # every message took the batch's fast path
    assert batched == one_by_one
    assert batched["shipments"] == {
        "A": [
            ("WH-A", "created", [{"sku": "X", "quantity": 2}, {"sku": "Y", "quantity": 1}]),
            ("WH-B", "created", [{"sku": "X", "quantity": 1}]),
        ],
        "B": [("WH-A", "cancelled", [{"sku": "X", "quantity": 1}])],
        "C": [],
        "D": [("WH-B", "created", [{"sku": "Z", "quantity": 3}])],
        "BAD": [],
    }
    assert [kind for kind, _ in batched["sent"]] == [
        "shipment.created",
        "shipment.created",
        "shipment.created",
        "shipment.cancelled",
        "shipment.created",
    ]


async def test_a_release_that_fails_for_good_leaves_no_shipment_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan: Callable[..., Awaitable[None]] = service.plan_shipments

    async def failing_after_planning(*, uow: Work, event: OrderReleased, cause: Envelope) -> None:
        await plan(uow=uow, event=event, cause=cause)
        if event.order_id == "BAD":
            raise PermanentError("planned, then refused")

    monkeypatch.setattr(service, "plan_shipments", failing_after_planning)
    messages = (
        released("A", ("WH-A", "X", 1)),
        released("BAD", ("WH-A", "X", 1)),
        OrderCancelled(order_id="A", reason="customer asked"),
        OrderCancelled(order_id="BAD", reason="customer asked"),  # nothing of it was kept
        released("D", ("WH-B", "Z", 3)),
    )

    batched, one_by_one, isolated = await batched_and_one_by_one(tmp_path, messages)

    assert isolated
    assert batched == one_by_one
    assert len(batched["dead_letters"]) == 1
    assert (batched["shipments"]["A"], batched["shipments"]["BAD"]) == (
        [("WH-A", "cancelled", [{"sku": "X", "quantity": 1}])],
        [],
    )


async def test_a_batch_of_releases_reads_once_and_inserts_once_per_table(
    tmp_path: Path,
) -> None:
    async with started(tmp_path, "fulfillment") as stack:
        orders = [released(f"o-{n}", ("WH-A", "X", 1), ("WH-B", "Y", 2)) for n in range(20)]
        with statements_run(stack.db) as statements:
            await stack.apply(*orders)

        shipments = [s for n in range(20) for s in await stack.shipments(f"o-{n}")]

    inserts = [s.split("(")[0].split()[-1] for s in statements if s.upper().startswith("INSERT")]
    assert sorted(inserts) == sorted(
        ["shipment", "shipment_line", "outbox", "inbox", "consumer_position"]
    )
    assert len([s for s in selects(statements) if "FROM shipment" in s]) == 1
    assert len(shipments) == 40
