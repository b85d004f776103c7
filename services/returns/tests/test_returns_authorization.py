"""Service tests: return authorization on a real (SQLite) database, with the order service's
and fulfillment's events fed through FastStream's in-memory broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from keel_contracts import Message
from keel_contracts.events import ShipmentDelivered
from keel_kit.testing import running, selects, statements_run
from returns_harness import Stack as ReturnsStack
from returns_harness import released, returns_app, shipped

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

NOW = datetime.now(UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def delivered(order_id: str, shipment_id: str) -> ShipmentDelivered:
    return ShipmentDelivered(shipment_id=shipment_id, order_id=order_id)


class Stack(ReturnsStack):
    """The returns service's test stack, with the doors these tests go through."""

    async def ship(
        self, order_id: str, *lines: tuple[str, int], channel: str = "web", days: float = 1
    ) -> None:
        """An order released on `channel` whose one shipment left `days` ago."""
        await self.publish(released(order_id, channel))
        await self.publish(shipped(order_id, f"s-{order_id}", *lines), at=days_ago(days))

    async def request(
        self, order_id: str, *lines: tuple[str, int], key: str | None = None
    ) -> httpx.Response:
        body = {
            "order_id": order_id,
            "lines": [{"sku": sku, "quantity": q, "reason": "too small"} for sku, q in lines],
        }
        headers = {"Idempotency-Key": key} if key else {}
        return await self.client.post("/v1/returns", json=body, headers=headers)


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running(returns_app(tmp_path), Stack) as stack:
        yield stack


def refusal(response: httpx.Response) -> tuple[str, str]:
    """The field a 422 names and what it says about it."""
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    return error["field"], error["message"]


async def test_a_shipped_order_can_be_returned(stack: Stack) -> None:
    await stack.ship("o-1", ("MUG-1", 2), ("CUP-1", 1))

    response = await stack.request("o-1", ("MUG-1", 1))

    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["status"] == "authorized"
    view = await stack.client.get(f"/v1/returns/{answer['return_id']}")
    assert view.status_code == 200
    body = view.json()
    assert (body["order_id"], body["channel"], body["status"]) == ("o-1", "web", "authorized")
    assert body["lines"] == [{"sku": "MUG-1", "quantity": 1, "reason": "too small"}]
    [event] = await stack.sent()
    assert event.type == "return.authorized"
    assert event.correlation_id == "o-1"
    assert event.payload == {
        "return_id": answer["return_id"],
        "order_id": "o-1",
        "lines": [{"sku": "MUG-1", "quantity": 1}],
    }


async def test_an_unknown_return_is_not_found(stack: Stack) -> None:
    response = await stack.client.get("/v1/returns/nope")
    assert response.status_code == 404
    assert response.json()["detail"] == "no return nope"


async def test_more_than_shipped_is_refused_naming_the_line(stack: Stack) -> None:
    await stack.ship("o-2", ("MUG-1", 2), ("CUP-1", 1))

    response = await stack.request("o-2", ("CUP-1", 1), ("MUG-1", 3))

    field, message = refusal(response)
    assert field == "lines.1.quantity"
    assert message == (
        "quantity 3 of sku MUG-1 is more than can be returned: 2 (shipped 2, already returned 0)"
    )
    assert await stack.sent() == []


async def test_lines_of_one_sku_add_up(stack: Stack) -> None:
    await stack.ship("o-3", ("MUG-1", 2))

    field, message = refusal(await stack.request("o-3", ("MUG-1", 1), ("MUG-1", 2)))

    assert field == "lines.1.quantity"
    assert message == (
        "quantity 2 of sku MUG-1 is more than can be returned: 1 "
        "(shipped 2, already returned 0, 1 on earlier lines)"
    )


async def test_two_returns_cannot_together_exceed_what_shipped(stack: Stack) -> None:
    await stack.ship("o-4", ("MUG-1", 3))

    first = await stack.request("o-4", ("MUG-1", 2))
    second = await stack.request("o-4", ("MUG-1", 2))
    third = await stack.request("o-4", ("MUG-1", 1))
    fourth = await stack.request("o-4", ("MUG-1", 1))

    assert first.status_code == 201
    assert refusal(second) == (
        "lines.0.quantity",
        "quantity 2 of sku MUG-1 is more than can be returned: 1 (shipped 3, already returned 2)",
    )
    assert third.status_code == 201
    assert refusal(fourth)[1].endswith("0 (shipped 3, already returned 3)")
    assert [e.payload["lines"] for e in await stack.sent()] == [
        [{"sku": "MUG-1", "quantity": 2}],
        [{"sku": "MUG-1", "quantity": 1}],
    ]


async def test_a_non_returnable_sku_is_refused_with_the_reason(stack: Stack) -> None:
    put = await stack.client.put(
        "/v1/return-policies/skus/EARRING-1",
        json={"returnable": False, "reason": "pierced jewellery cannot be resold"},
    )
    assert put.status_code == 200
    assert put.json() == {
        "sku": "EARRING-1",
        "returnable": False,
        "reason": "pierced jewellery cannot be resold",
    }
    await stack.ship("o-5", ("MUG-1", 1), ("EARRING-1", 1))

    assert refusal(await stack.request("o-5", ("MUG-1", 1), ("EARRING-1", 1))) == (
        "lines.1.sku",
        "sku EARRING-1 is not returnable: pierced jewellery cannot be resold",
    )
    # Made returnable again, it can come back.
    await stack.client.put("/v1/return-policies/skus/EARRING-1", json={"returnable": True})
    assert (await stack.request("o-5", ("EARRING-1", 1))).status_code == 201


async def test_a_sku_is_made_non_returnable_only_with_a_reason(stack: Stack) -> None:
    put = await stack.client.put("/v1/return-policies/skus/MUG-1", json={"returnable": False})
    assert refusal(put) == ("reason", "Value error, say why the sku is not returnable")
    view = await stack.client.get("/v1/return-policies/skus/MUG-1")
    assert view.json() == {"sku": "MUG-1", "returnable": True, "reason": None}


async def test_the_return_window_counts_from_delivery(stack: Stack) -> None:
    put = await stack.client.put(
        "/v1/return-policies/channels/marketplace", json={"window_days": 14}
    )
    assert put.json() == {"channel": "marketplace", "window_days": 14, "default": False}
    for order_id, delivered_days_ago in (("o-recent", 10), ("o-late", 15)):
        await stack.ship(order_id, ("MUG-1", 1), channel="marketplace", days=20)
        await stack.publish(delivered(order_id, f"s-{order_id}"), at=days_ago(delivered_days_ago))

    assert (await stack.request("o-recent", ("MUG-1", 1))).status_code == 201
    field, message = refusal(await stack.request("o-late", ("MUG-1", 1)))
    assert field == "lines.0.sku"
    closed = (days_ago(15) + timedelta(days=14)).isoformat()
    assert message == (
        "the return window of sku MUG-1 (14 days from delivery for channel marketplace) "
        f"closed at {closed}"
    )


async def test_the_return_window_counts_from_shipment_until_delivered(stack: Stack) -> None:
    await stack.client.put("/v1/return-policies/channels/marketplace", json={"window_days": 14})
    await stack.ship("o-undelivered", ("MUG-1", 1), channel="marketplace", days=15)
    await stack.ship("o-web", ("MUG-1", 1), channel="web", days=29)  # the default: 30 days

    field, message = refusal(await stack.request("o-undelivered", ("MUG-1", 1)))
    assert field == "lines.0.sku"
    assert "(14 days from shipment for channel marketplace)" in message
    assert (await stack.request("o-web", ("MUG-1", 1))).status_code == 201
    web = await stack.client.get("/v1/return-policies/channels/web")
    assert web.json() == {"channel": "web", "window_days": 30, "default": True}


async def test_a_repeated_shipment_counts_once(stack: Stack) -> None:
    await stack.ship("o-6", ("MUG-1", 2))
    # The same shipment again under a new event id (a producer retry, a replay).
    await stack.publish(shipped("o-6", "s-o-6", ("MUG-1", 2)))

    assert refusal(await stack.request("o-6", ("MUG-1", 3)))[1].endswith(
        "2 (shipped 2, already returned 0)"
    )
    assert (await stack.request("o-6", ("MUG-1", 2))).status_code == 201


async def test_a_second_shipment_of_the_order_adds_up(stack: Stack) -> None:
    await stack.ship("o-7", ("MUG-1", 2))
    await stack.publish(shipped("o-7", "s-o-7-b", ("MUG-1", 1), ("CUP-1", 1)))

    assert refusal(await stack.request("o-7", ("MUG-1", 4)))[1].endswith(
        "3 (shipped 3, already returned 0)"
    )
    assert (await stack.request("o-7", ("MUG-1", 3), ("CUP-1", 1))).status_code == 201


async def test_one_batch_with_several_events_of_an_order_is_read_back(stack: Stack) -> None:
    messages: list[tuple[Message, datetime | None]] = [
        (released("o-8", "marketplace"), None),
        (shipped("o-8", "s-a", ("MUG-1", 2)), days_ago(40)),
        (shipped("o-8", "s-a", ("MUG-1", 2)), days_ago(40)),  # a repeat within the batch
        (delivered("o-8", "s-a"), days_ago(35)),
        (shipped("o-8", "s-b", ("MUG-1", 1)), days_ago(3)),
        (shipped("o-9", "s-c", ("CUP-1", 1)), days_ago(1)),
    ]

    with statements_run(stack.db) as statements:
        applied = await stack.apply_at(*messages)

    assert applied == len(messages)
    # One pass, no query per message: the batch's orders (all new here). The inbox claims
    # its events with an insert, no select.
    assert len(selects(statements)) == 1

    # The window runs from s-b's shipment three days ago, not s-a's delivery 35 days ago.
    assert refusal(await stack.request("o-8", ("MUG-1", 4)))[1].endswith(
        "3 (shipped 3, already returned 0)"
    )
    accepted = await stack.request("o-8", ("MUG-1", 3))
    assert accepted.status_code == 201
    view = (await stack.client.get(f"/v1/returns/{accepted.json()['return_id']}")).json()
    assert view["channel"] == "marketplace"
    assert (await stack.request("o-9", ("CUP-1", 1))).status_code == 201


async def test_an_order_nothing_of_which_shipped_is_refused(stack: Stack) -> None:
    await stack.publish(released("o-10", "web"))  # released, not shipped yet

    assert refusal(await stack.request("o-10", ("MUG-1", 1))) == (
        "order_id",
        "nothing of order o-10 has shipped",
    )
    assert refusal(await stack.request("o-unknown", ("MUG-1", 1))) == (
        "order_id",
        "nothing of order o-unknown has shipped",
    )


async def test_a_sku_the_order_did_not_ship_is_refused(stack: Stack) -> None:
    await stack.ship("o-11", ("MUG-1", 1))

    assert refusal(await stack.request("o-11", ("MUG-1", 1), ("CUP-1", 1))) == (
        "lines.1.sku",
        "sku CUP-1 was not shipped on order o-11",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [{"sku": "MUG-1", "quantity": 1, "reason": "x"}]}, "order_id"),
        ({"order_id": "o-1", "lines": []}, "lines"),
        (
            {"order_id": "o-1", "lines": [{"sku": "MUG-1", "quantity": 0, "reason": "x"}]},
            "lines.0.quantity",
        ),
        (
            {"order_id": "o-1", "lines": [{"sku": "MUG 1", "quantity": 1, "reason": "x"}]},
            "lines.0.sku",
        ),
        ({"order_id": "o-1", "lines": [{"sku": "MUG-1", "quantity": 1}]}, "lines.0.reason"),
        (
            {"order_id": "o-1", "lines": [{"sku": "MUG-1", "quantity": 1, "reason": " "}]},
            "lines.0.reason",
        ),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    stack: Stack, body: dict[str, Any], field: str
) -> None:
    response = await stack.client.post("/v1/returns", json=body)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_bad_policies_are_a_422_naming_the_field(stack: Stack) -> None:
    days = await stack.client.put("/v1/return-policies/channels/web", json={"window_days": -1})
    channel = await stack.client.put("/v1/return-policies/channels/a b", json={"window_days": 3})
    assert [e["field"] for e in days.json()["errors"]] == ["window_days"]
    assert [e["field"] for e in channel.json()["errors"]] == ["path.channel"]


async def test_the_same_idempotency_key_replays_the_first_return(stack: Stack) -> None:
    await stack.ship("o-12", ("MUG-1", 2))

    first = await stack.request("o-12", ("MUG-1", 1), key="rma-1")
    again = await stack.request("o-12", ("MUG-1", 1), key="rma-1")
    other = await stack.request("o-12", ("MUG-1", 2), key="rma-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert refusal(other)[0] == "Idempotency-Key"
    assert len(await stack.sent()) == 1
