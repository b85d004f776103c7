"""Service tests: a warehouse system's batch of events through
`POST /v1/warehouses/{location_id}/events/batch`, each event judged as a single POST is."""

from __future__ import annotations

from typing import Any

import pytest
from test_fulfillment import Stack, released

from keel_contracts.roles import Role
from keel_fulfillment.schemas import MAX_BATCH
from keel_kit.testing import selects, statements_run

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

BATCH = "/v1/warehouses/WH-A/events/batch"


async def shipment_at(stack: Stack, order_id: str, location: str = "WH-A") -> str:
    """A new shipment of one unit at `location`, for a new order."""
    await stack.publish(released(order_id, (location, "X", 1)))
    (shipment,) = await stack.shipments(order_id)
    shipment_id: str = shipment["shipment_id"]
    return shipment_id


def event(event_id: str, kind: str, shipment_id: str) -> dict[str, str]:
    body = {"event_id": event_id, "type": kind, "shipment_id": shipment_id}
    if kind == "shipped":
        body |= {"carrier": "UPS", "tracking_number": f"1Z{event_id}"}
    return body


async def post_batch(stack: Stack, *events: dict[str, str]) -> dict[str, Any]:
    response = await stack.client.post(BATCH, json={"events": list(events)})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def statuses(stack: Stack, *order_ids: str) -> list[str]:
    return [s["status"] for o in order_ids for s in await stack.shipments(o)]


async def test_each_event_of_a_batch_is_applied_or_refused_alone(stack: Stack) -> None:
    first = await shipment_at(stack, "o-1")
    early = await shipment_at(stack, "o-2")
    elsewhere = await shipment_at(stack, "o-3", location="WH-B")
    last = await shipment_at(stack, "o-4")

    answer = await post_batch(
        stack,
        event("e1", "picked", first),
        event("e2", "delivered", early),  # not shipped yet
        event("e3", "picked", "no-such-shipment"),
        event("e4", "picked", elsewhere),  # WH-B's, reported at WH-A's door
        event("e5", "shipped", last),
    )

    assert (answer["accepted"], answer["refused"]) == (2, 3)
    results = answer["results"]
    assert [r["event_id"] for r in results] == ["e1", "e2", "e3", "e4", "e5"]
    assert [r["status"] for r in results] == [202, 409, 404, 422, 202]
    assert results[0]["event"] == {
        "event_id": "e1",
        "shipment_id": first,
        "status": "picked",
        "duplicate": False,
    }
    assert results[1]["event"] is None
    assert results[1]["problem"]["errors"] == [
        {"field": "type", "message": "a created shipment cannot become delivered"}
    ]
    assert results[3]["problem"]["errors"][0]["field"] == "shipment_id"
    assert await statuses(stack, "o-1", "o-2", "o-3", "o-4") == [
        "picked",
        "created",
        "created",
        "shipped",
    ]
    assert [e.type for e in await stack.staged("fulfillment.shipment.v1", key="o-4")] == [
        "shipment.created",
        "shipment.shipped",
    ]
    # A refused event's id was not taken: the warehouse may use it for what it meant to say.
    retried = await post_batch(stack, event("e2", "picked", early))
    assert retried["results"][0]["event"]["duplicate"] is False


async def test_two_events_for_one_shipment_apply_in_the_order_sent(stack: Stack) -> None:
    shipment = await shipment_at(stack, "o-1")

    answer = await post_batch(
        stack,
        event("p", "picked", shipment),
        event("s", "shipped", shipment),
        event("k", "packed", shipment),  # after shipping: too late
    )

    assert [r["status"] for r in answer["results"]] == [202, 202, 409]
    assert [r["event"] and r["event"]["status"] for r in answer["results"]] == [
        "picked",
        "shipped",
        None,
    ]
    (shipped,) = await stack.shipments("o-1")
    assert (shipped["status"], shipped["tracking_number"]) == ("shipped", "1Zs")
    [message] = [
        e for e in await stack.staged("fulfillment.shipment.v1") if e.type == "shipment.shipped"
    ]
    assert message.payload["lines"] == [{"sku": "X", "quantity": 1}]


async def test_an_event_id_twice_in_one_batch_is_a_duplicate_the_second_time(
    stack: Stack,
) -> None:
    shipment = await shipment_at(stack, "o-1")
    other = await shipment_at(stack, "o-2")

    answer = await post_batch(
        stack,
        event("e1", "shipped", shipment),
        event("e1", "shipped", shipment),
        event("e1", "picked", other),  # the same id for another event
    )

    assert [r["status"] for r in answer["results"]] == [202, 202, 409]
    assert [r["event"] and r["event"]["duplicate"] for r in answer["results"]] == [
        False,
        True,
        None,
    ]
    assert answer["results"][2]["problem"]["errors"][0]["field"] == "event_id"
    assert await statuses(stack, "o-1", "o-2") == ["shipped", "created"]
    sent = [e.type for e in await stack.staged("fulfillment.shipment.v1")]
    assert sent.count("shipment.shipped") == 1


async def test_a_resent_batch_is_all_duplicates_and_sends_nothing_again(stack: Stack) -> None:
    shipments = [await shipment_at(stack, f"o-{n}") for n in range(3)]
    events = [event(f"e{n}", "shipped", s) for n, s in enumerate(shipments)]
    first = await post_batch(stack, *events)
    sent = await stack.staged("fulfillment.shipment.v1")

    again = await post_batch(stack, *events)
    single = await stack.client.post("/v1/warehouses/WH-A/events", json=events[0])

    assert [r["status"] for r in again["results"]] == [202, 202, 202]
    assert [r["event"]["duplicate"] for r in again["results"]] == [True, True, True]
    assert [r["event"]["status"] for r in again["results"]] == ["shipped"] * 3
    assert (first["accepted"], again["accepted"]) == (3, 3)
    assert (single.status_code, single.json()["duplicate"]) == (202, True)
    assert len(await stack.staged("fulfillment.shipment.v1")) == len(sent)


@pytest.mark.parametrize("count", [0, MAX_BATCH + 1])
async def test_an_empty_or_oversized_batch_is_a_422(stack: Stack, count: int) -> None:
    events = [event(f"e{n}", "picked", f"s{n}") for n in range(count)]

    response = await stack.client.post(BATCH, json={"events": events})

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["events"]


async def test_an_event_that_does_not_parse_refuses_the_whole_batch(stack: Stack) -> None:
    shipment = await shipment_at(stack, "o-1")
    untracked = {"event_id": "s", "type": "shipped", "shipment_id": shipment}

    response = await stack.client.post(
        BATCH, json={"events": [event("p", "picked", shipment), untracked]}
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["events.1"]
    assert await statuses(stack, "o-1") == ["created"]


async def test_a_batch_reads_the_same_queries_for_2_events_or_40(stack: Stack) -> None:
    async def selects_for(events: list[dict[str, str]]) -> int:
        with statements_run(stack.db) as statements:
            await post_batch(stack, *events)
        return len(selects(statements))

    few = [await shipment_at(stack, f"few-{n}") for n in range(2)]
    many = [await shipment_at(stack, f"many-{n}") for n in range(40)]

    for_few = await selects_for([event(f"{s}-shipped", "shipped", s) for s in few])
    for_many = await selects_for([event(f"{s}-shipped", "shipped", s) for s in many])

    assert for_few == for_many


async def test_warehouse_staff_may_send_a_batch_and_finance_may_not(stack: Stack) -> None:
    shipment = await shipment_at(stack, "o-1")
    body = {"events": [event("e1", "picked", shipment)]}

    for role, status in ((Role.WAREHOUSE, 200), (Role.FINANCE, 403)):
        response = await stack.client.post(BATCH, json=body, headers=stack.as_person("pat", role))
        assert response.status_code == status, role
