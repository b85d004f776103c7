"""Service tests: the inventory API on its real (SQLite) database, before anything is
registered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from keel_contracts import TOPICS
from keel_inventory.main import create_app
from keel_inventory.settings import Settings
from keel_kit.testing import ServiceUnderTest, running

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

ITEM = {"sku": "MUG-1", "name": "Mug", "unit_cost": "3.50", "currency": "USD"}
LOCATION = {
    "location_id": "WH-1",
    "name": "East",
    "kind": "warehouse",
    "country": "US",
    "postal_code": "10001",
}


@pytest_asyncio.fixture
async def service(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    settings = Settings(
        state_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'inventory.db'}"
    )
    async with running(create_app(settings), ServiceUnderTest) as service:
        yield service


@pytest.fixture
def client(service: ServiceUnderTest) -> httpx.AsyncClient:
    return service.client


async def sent(service: ServiceUnderTest) -> list[str]:
    """The type of every event inventory staged, topic by topic in the registry's order."""
    owned = [topic.name for topic in TOPICS if topic.owner == "inventory"]
    return [e.type for topic in owned for e in await service.staged(topic)]


async def test_receipt_books_sellable_stock_and_stages_its_event(
    service: ServiceUnderTest, client: httpx.AsyncClient
) -> None:
    assert (await client.post("/v1/items", json=ITEM)).status_code == 201
    assert (await client.post("/v1/locations", json=LOCATION)).status_code == 201
    receipt = await client.post(
        "/v1/receipts",
        json={
            "sku": "MUG-1",
            "location_id": "WH-1",
            "quantity": 7,
            "unit_cost": "3.50",
            "reference": "PO-1",
        },
    )
    assert receipt.status_code == 201

    availability = (await client.get("/v1/availability/MUG-1")).json()
    assert availability["available_to_sell"] == 7
    assert availability["locations"] == [
        {
            "location_id": "WH-1",
            "sellable": 7,
            "reserved": 0,
            "available": 7,
            "on_order": 0,
            "next_expected_date": None,
            "in_transit": 0,
        }
    ]
    ledger = (await client.get("/v1/ledger", params={"sku": "MUG-1"})).json()
    assert [m["quantity"] for m in ledger["items"]] == [7]
    assert await sent(service) == ["item.registered", "location.registered", "stock.received"]


@pytest.mark.parametrize(
    ("currency", "unit_cost", "shown"),
    [
        ("JPY", "250.0000", "250"),  # yen are whole
        ("JPY", "333.3333", "333.3333"),  # a fraction of a yen is a real unit cost
        ("KWD", "2.5", "2.500"),  # a dinar has three places
        ("USD", "3.5000", "3.50"),
    ],
)
async def test_an_item_s_unit_cost_is_shown_with_its_currency_s_places(
    client: httpx.AsyncClient, currency: str, unit_cost: str, shown: str
) -> None:
    item = {**ITEM, "currency": currency, "unit_cost": unit_cost}

    response = await client.post("/v1/items", json=item)

    assert response.status_code == 201, response.text
    assert (response.json()["currency"], response.json()["unit_cost"]) == (currency, shown)


async def test_second_registration_of_a_sku_is_a_conflict(client: httpx.AsyncClient) -> None:
    await client.post("/v1/items", json=ITEM)
    again = await client.post("/v1/items", json=ITEM)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["errors"][0]["field"] == "sku"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -3}, "quantity"),
        ({"quantity": 10**12}, "quantity"),
        ({"unit_cost": "abc"}, "unit_cost"),
        ({"sku": ""}, "sku"),
    ],
)
async def test_bad_receipt_is_a_422_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    body = {
        "sku": "MUG-1",
        "location_id": "WH-1",
        "quantity": 1,
        "unit_cost": "1",
        "reference": "x",
        **change,
    }
    response = await client.post("/v1/receipts", json=body)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_receipt_for_unknown_sku_is_refused_and_nothing_is_booked(
    service: ServiceUnderTest, client: httpx.AsyncClient
) -> None:
    await client.post("/v1/locations", json=LOCATION)
    response = await client.post(
        "/v1/receipts",
        json={
            "sku": "NOPE",
            "location_id": "WH-1",
            "quantity": 1,
            "unit_cost": "1",
            "reference": "x",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sku"
    assert (await client.get("/v1/ledger")).json()["items"] == []
    assert await sent(service) == ["location.registered"]


async def test_body_that_is_not_an_object_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/items", json=["not", "an", "object"])
    assert response.status_code == 422


async def test_unknown_sku_availability_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/availability/NOPE")
    assert response.status_code == 404
    assert response.json()["title"] == "Not found"


RECEIPT = {
    "sku": "MUG-1",
    "location_id": "WH-1",
    "quantity": 2,
    "unit_cost": "3.50",
    "reference": "PO-7",
}


async def test_same_idempotency_key_and_body_replays_without_booking_twice(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/items", json=ITEM)
    await client.post("/v1/locations", json=LOCATION)
    headers = {"Idempotency-Key": "receipt-PO-7"}
    first = await client.post("/v1/receipts", json=RECEIPT, headers=headers)
    again = await client.post("/v1/receipts", json=RECEIPT, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await client.get("/v1/availability/MUG-1")).json()["available_to_sell"] == 2


async def test_same_idempotency_key_with_another_body_is_a_422(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/items", json=ITEM)
    await client.post("/v1/locations", json=LOCATION)
    headers = {"Idempotency-Key": "receipt-PO-7"}
    await client.post("/v1/receipts", json=RECEIPT, headers=headers)
    other = await client.post("/v1/receipts", json={**RECEIPT, "quantity": 3}, headers=headers)

    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert (await client.get("/v1/availability/MUG-1")).json()["available_to_sell"] == 2
