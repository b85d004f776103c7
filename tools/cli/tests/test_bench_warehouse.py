"""The bench as the warehouses: created shipments reported shipped in batches per location,
with bounded retries of what fulfillment asks to have again."""

from __future__ import annotations

import json

import httpx
import pytest

from keel_cli.bench_clock import CreatedShipment
from keel_cli.bench_warehouse import ATTEMPTS, Warehouse, shipped_event

pytestmark = pytest.mark.unit

ALL_ACCEPTED = 200  # an answer in which every event of the batch is accepted


def test_the_shipped_report_carries_what_fulfillment_requires() -> None:
    body = shipped_event("3f2a9c1e-0000-4000-8000-00000000abcd")
    assert body == {
        "event_id": "3f2a9c1e-0000-4000-8000-00000000abcd-shipped",
        "type": "shipped",
        "shipment_id": "3f2a9c1e-0000-4000-8000-00000000abcd",
        "carrier": "UPS",
        "tracking_number": "1Z000000abcd",
    }


def _system(answers: list[int | list[int]], seen: list[httpx.Request]) -> httpx.AsyncClient:
    """A fulfillment answering each request in turn: `ALL_ACCEPTED`, another status for the
    whole request, or a list of each event's status."""
    replies = iter(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = next(replies)
        if isinstance(reply, int) and reply != ALL_ACCEPTED:
            return httpx.Response(reply)
        statuses = [202] * len(_events(request)) if isinstance(reply, int) else reply
        return httpx.Response(200, json={"results": [{"status": s} for s in statuses]})

    return httpx.AsyncClient(base_url="http://fulfillment", transport=httpx.MockTransport(answer))


def _events(request: httpx.Request) -> list[str]:
    """The shipment ids a batch request reports."""
    return [event["shipment_id"] for event in json.loads(request.content)["events"]]


def _east(*shipment_ids: str) -> list[CreatedShipment]:
    return [CreatedShipment(s, f"o-{s}", "WH-EAST") for s in shipment_ids]


async def _ship(warehouse: Warehouse, *shipments: CreatedShipment) -> None:
    """Queue the shipments, then let the warehouse's slots send them."""
    for shipment in shipments:
        warehouse.ship(shipment)
    warehouse.start()
    await warehouse.idle()
    await warehouse.stop()


@pytest.mark.asyncio
async def test_what_a_location_has_queued_goes_in_one_request_at_its_batch_door() -> None:
    east: list[httpx.Request] = []
    west: list[httpx.Request] = []
    systems = {"WH-EAST": _system([ALL_ACCEPTED], east), "WH-WEST": _system([ALL_ACCEPTED], west)}
    warehouse = Warehouse(systems, concurrency=2, retry_pause=0)

    await _ship(warehouse, *_east("s1", "s2"), CreatedShipment("s3", "o3", "WH-WEST"), *_east("s4"))

    assert warehouse.reported == 4
    (east_batch,) = east
    (west_batch,) = west
    assert east_batch.url.path == "/v1/warehouses/WH-EAST/events/batch"
    assert (_events(east_batch), _events(west_batch)) == (["s1", "s2", "s4"], ["s3"])
    assert warehouse.document()["shipments_per_request"] == 2.0


@pytest.mark.asyncio
async def test_a_request_carries_at_most_a_batch_of_shipments() -> None:
    seen: list[httpx.Request] = []
    warehouse = Warehouse(
        {"WH-EAST": _system([ALL_ACCEPTED] * 3, seen)}, concurrency=1, retry_pause=0, batch=2
    )

    await _ship(warehouse, *_east("s1", "s2", "s3", "s4", "s5"))

    assert [_events(r) for r in seen] == [["s1", "s2"], ["s3", "s4"], ["s5"]]
    assert (warehouse.reported, warehouse.largest_batch) == (5, 2)


@pytest.mark.asyncio
async def test_a_shipment_is_sent_at_once_when_a_slot_is_free() -> None:
    seen: list[httpx.Request] = []
    warehouse = Warehouse({"WH-EAST": _system([ALL_ACCEPTED] * 2, seen)}, retry_pause=0)
    warehouse.start()

    for shipment in _east("s1", "s2"):  # one at a time, as at a low rate
        warehouse.ship(shipment)
        await warehouse.idle()
    await warehouse.stop()

    assert [_events(r) for r in seen] == [["s1"], ["s2"]]


@pytest.mark.asyncio
async def test_an_overloaded_fulfillment_is_asked_again_with_the_same_events() -> None:
    seen: list[httpx.Request] = []
    warehouse = Warehouse({"WH-EAST": _system([503, 429, ALL_ACCEPTED], seen)}, retry_pause=0)

    await _ship(warehouse, *_east("s1", "s2"))

    assert warehouse.reported == 2
    assert len(seen) == 3
    assert len({r.content for r in seen}) == 1  # the same event ids: idempotent
    assert warehouse.not_reported == {}


@pytest.mark.asyncio
async def test_only_the_events_worth_asking_again_are_sent_again() -> None:
    seen: list[httpx.Request] = []
    warehouse = Warehouse({"WH-EAST": _system([[202, 503, 409], [202]], seen)}, retry_pause=0)

    await _ship(warehouse, *_east("s1", "s2", "s3"))

    assert [_events(r) for r in seen] == [["s1", "s2", "s3"], ["s2"]]
    assert warehouse.reported == 2
    assert warehouse.not_reported == {"HTTP 409": 1}


@pytest.mark.asyncio
async def test_a_refused_batch_is_not_repeated_and_each_shipment_is_counted() -> None:
    seen: list[httpx.Request] = []
    warehouse = Warehouse({"WH-EAST": _system([422], seen)}, retry_pause=0)

    await _ship(warehouse, *_east("s1", "s2"))

    assert len(seen) == 1
    assert warehouse.not_reported == {"HTTP 422": 2}


@pytest.mark.asyncio
async def test_retries_end_after_the_last_attempt() -> None:
    seen: list[httpx.Request] = []
    warehouse = Warehouse({"WH-EAST": _system([503] * ATTEMPTS, seen)}, retry_pause=0)

    await _ship(warehouse, *_east("s1"))

    assert len(seen) == ATTEMPTS
    assert warehouse.document()["not_reported"] == {"HTTP 503": 1}


@pytest.mark.asyncio
async def test_a_location_without_a_system_is_counted_not_reported() -> None:
    warehouse = Warehouse({}, retry_pause=0)

    await _ship(warehouse, CreatedShipment("s1", "o1", "WH-MOON"))

    assert warehouse.not_reported == {"no warehouse system for WH-MOON": 1}
