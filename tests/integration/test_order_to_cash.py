"""The validation half of order to cash across order, inventory and finance, on the real broker
and PostgreSQL: reservation without oversell, payment, backorders, cancellation."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.integration.conftest import StartService
from tests.integration.support import ServiceProcess, eventually, new_sku

pytestmark = pytest.mark.integration

_numbers = itertools.count(1)


def order_body(
    channel: str, sku: str, *, quantity: int = 1, token: str = "tok_visa"
) -> dict[str, Any]:
    n = next(_numbers)
    return {
        "channel": channel,
        "external_id": f"{channel}-{sku}-{n}",
        "customer": {"customer_id": f"C-{n % 50}", "email": f"c{n % 50}@example.com"},
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": "20.00"}],
        "shipping": {
            "amount": "4.99",
            "address": {
                "name": "Pat",
                "line1": "2 Elm St",
                "city": "Portland",
                "postal_code": "97201",
                "country": "US",
            },
        },
        "payment": {"method": "card", "token": token},
    }


class Stack:
    def __init__(self, start_service: StartService, *, fulfillment: bool = False) -> None:
        self.inventory = start_service("inventory")
        self.finance = start_service(
            "finance", env={"KEEL_FINANCE_INVENTORY_URL": self.inventory.url}
        )
        self.order = start_service("order")
        self.fulfillment = start_service("fulfillment") if fulfillment else None

    def stock(self, sku: str, **by_location: int) -> None:
        assert (
            self.inventory.post(
                "/v1/items", {"sku": sku, "name": sku, "unit_cost": "8.00", "currency": "USD"}
            ).status_code
            == 201
        )
        for location, quantity in by_location.items():
            self.inventory.post(
                "/v1/locations",
                {
                    "location_id": location,
                    "name": location,
                    "kind": "warehouse",
                    "country": "US",
                    "postal_code": "10001",
                },
            )
            if quantity:  # zero: the SKU is known there, with nothing on hand
                self.receive(sku, location, quantity)
        eventually(
            lambda: self.order.get(f"/v1/replicas/items/{sku}").status_code == 200,
            what="the order service to know the SKU",
        )

    def receive(self, sku: str, location: str, quantity: int) -> None:
        response = self.inventory.post(
            "/v1/receipts",
            {
                "sku": sku,
                "location_id": location,
                "quantity": quantity,
                "unit_cost": "8.00",
                "reference": f"receipt {sku}",
            },
        )
        assert response.status_code == 201, response.text

    def place(self, body: dict[str, Any]) -> str:
        response = self.order.post(
            "/v1/orders", body, headers={"Idempotency-Key": body["external_id"]}
        )
        assert response.status_code == 202, response.text
        order_id: str = response.json()["order_id"]
        return order_id

    def status(self, order_id: str) -> str:
        status: str = self.order.get(f"/v1/orders/{order_id}").json()["status"]
        return status

    def settled(
        self, order_ids: list[str], *, not_in: tuple[str, ...] = ("validating",)
    ) -> dict[str, str]:
        statuses = {order_id: self.status(order_id) for order_id in order_ids}
        return statuses if not any(s in not_in for s in statuses.values()) else {}

    def availability(self, sku: str) -> dict[str, Any]:
        body: dict[str, Any] = self.inventory.get(f"/v1/availability/{sku}").json()
        return body

    def shipments(self, order_id: str, count: int = 1) -> list[dict[str, Any]]:
        """The order's shipments, once fulfillment has planned `count` of them."""
        assert self.fulfillment is not None, "start the stack with fulfillment=True"
        fulfillment = self.fulfillment

        def planned() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = fulfillment.get("/v1/shipments", order_id=order_id).json()
            return found if len(found) == count else []

        return eventually(planned, what=f"{count} shipment(s) planned")

    def walk(self, shipment: dict[str, Any], *, to: str = "delivered") -> None:
        """Post the warehouse's events for a shipment, from picked up to `to`."""
        assert self.fulfillment is not None, "start the stack with fulfillment=True"
        steps = ("picked", "packed", "shipped", "delivered")
        for step in steps[: steps.index(to) + 1]:
            body = {
                "event_id": f"{shipment['shipment_id']}-{step}",
                "type": step,
                "shipment_id": shipment["shipment_id"],
                "carrier": "UPS",
                "tracking_number": f"1Z{step}",
            }
            response = self.fulfillment.post(
                f"/v1/warehouses/{shipment['location_id']}/events", body
            )
            assert response.status_code == 202, response.text

    def deliver(self, order_id: str) -> None:
        """Release, ship and deliver a single-shipment order."""
        eventually(lambda: self.status(order_id) == "released", what="the order released")
        [shipment] = self.shipments(order_id)
        self.walk(shipment)
        eventually(lambda: self.status(order_id) == "delivered", what="the order delivered")


async def _place_concurrently(order: ServiceProcess, bodies: list[dict[str, Any]]) -> list[str]:
    async with httpx.AsyncClient(base_url=order.url, timeout=30) as client:
        limit = asyncio.Semaphore(30)

        async def place(body: dict[str, Any]) -> str:
            async with limit:
                response = await client.post(
                    "/v1/orders", json=body, headers={"Idempotency-Key": body["external_id"]}
                )
            assert response.status_code == 202, response.text
            order_id: str = response.json()["order_id"]
            return order_id

        return await asyncio.gather(*(place(body) for body in bodies))


def test_300_concurrent_orders_for_100_units_reserve_exactly_100(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    sku = new_sku()
    stack.stock(sku, **{"WH-EAST": 60, "WH-WEST": 40})
    assert stack.order.post(
        "/v1/channels",
        {
            "channel_id": "marketplace-c",
            "name": "Marketplace C",
            "market_country": "US",
            "backorder_policy": "reject",
        },
    ).status_code in (201, 409)
    channels = ["web", "marketplace-a", "marketplace-c"]
    bodies = [order_body(channels[i % 3], sku) for i in range(300)]

    order_ids = asyncio.run(_place_concurrently(stack.order, bodies))
    statuses = eventually(
        lambda: stack.settled(order_ids), timeout=180, what="every order to leave validating"
    )

    counts = Counter(statuses.values())
    assert counts["released"] == 100, counts
    assert counts["released"] + counts["backordered"] + counts["rejected"] == 300, counts
    by_channel = Counter(
        (body["channel"], statuses[oid]) for body, oid in zip(bodies, order_ids, strict=True)
    )
    assert by_channel[("marketplace-c", "backordered")] == 0
    assert by_channel[("web", "rejected")] == by_channel[("marketplace-a", "rejected")] == 0
    availability = stack.availability(sku)
    assert sum(loc["reserved"] for loc in availability["locations"]) == 100
    assert availability["available_to_sell"] == 0
    invariants = stack.inventory.get("/v1/invariants").json()
    assert invariants["ledger_matches_balances"] is True
    assert invariants["oversold"] == []


def test_backorders_are_confirmed_oldest_first_when_stock_arrives(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    sku = new_sku()
    stack.stock(sku, **{"WH-EAST": 1})
    first = stack.place(order_body("web", sku))
    eventually(lambda: stack.status(first) == "released", what="the first order released")
    waiting = []
    for _ in range(4):
        order_id = stack.place(order_body("web", sku))
        eventually(
            lambda oid=order_id: stack.status(oid) == "backordered",  # type: ignore[misc]
            what="a backorder",
        )
        waiting.append(order_id)

    stack.receive(sku, "WH-EAST", 2)
    eventually(
        lambda: [stack.status(o) for o in waiting[:2]] == ["released", "released"],
        what="the two oldest backorders released",
    )
    assert [stack.status(o) for o in waiting[2:]] == ["backordered", "backordered"]


def test_declined_card_rejects_the_order_and_gives_the_stock_back(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    sku = new_sku()
    stack.stock(sku, **{"WH-EAST": 5})
    order_id = stack.place(order_body("web", sku, quantity=2, token="tok_declined"))

    eventually(lambda: stack.status(order_id) == "rejected", what="the rejection")
    eventually(
        lambda: stack.availability(sku)["available_to_sell"] == 5, what="the reservation released"
    )
    payment = stack.finance.get(f"/v1/payments/{order_id}").json()
    assert payment["status"] == "declined"


def test_cancel_after_confirmation_releases_stock_and_voids_payment(
    start_service: StartService,
) -> None:
    stack = Stack(start_service)
    sku = new_sku()
    stack.stock(sku, **{"WH-EAST": 5})
    order_id = stack.place(order_body("web", sku, quantity=3))
    eventually(lambda: stack.status(order_id) == "released", what="the order released")
    assert stack.availability(sku)["available_to_sell"] == 2

    response = stack.order.post(f"/v1/orders/{order_id}/cancel", {"reason": "customer asked"})
    assert response.json()["status"] == "cancelled"
    eventually(
        lambda: stack.availability(sku)["available_to_sell"] == 5, what="the stock given back"
    )
    eventually(
        lambda: stack.finance.get(f"/v1/payments/{order_id}").json()["status"] == "voided",
        what="the authorization voided",
    )


def test_same_idempotency_key_and_body_returns_the_same_order(start_service: StartService) -> None:
    stack = Stack(start_service)
    sku = new_sku()
    stack.stock(sku, **{"WH-EAST": 5})
    body = order_body("web", sku)
    first = stack.place(body)
    assert stack.place(body) == first
    other = stack.order.post(
        "/v1/orders",
        {**body, "lines": [{"sku": sku, "quantity": 2, "unit_price": "20.00"}]},
        headers={"Idempotency-Key": body["external_id"]},
    )
    assert other.status_code == 422


def test_an_order_no_warehouse_can_fill_alone_ships_split_and_books_balanced(
    start_service: StartService,
) -> None:
    stack = Stack(start_service, fulfillment=True)
    assert stack.fulfillment is not None
    sku = new_sku()
    stack.stock(sku, **{"WH-EAST": 2, "WH-WEST": 2})
    order_id = stack.place(order_body("web", sku, quantity=3))
    eventually(lambda: stack.status(order_id) == "released", what="the order released")

    planned = stack.shipments(order_id, count=2)
    assert sorted(sum(line["quantity"] for line in s["lines"]) for s in planned) == [1, 2]
    for shipment in planned:
        stack.walk(shipment)
        if shipment is planned[0]:
            eventually(
                lambda: stack.status(order_id) == "partially_shipped",
                what="the order partially shipped",
            )
    eventually(lambda: stack.status(order_id) == "delivered", what="the order delivered")

    availability = stack.availability(sku)
    assert availability["available_to_sell"] == 1
    assert sum(loc["sellable"] for loc in availability["locations"]) == 1
    assert sum(loc["reserved"] for loc in availability["locations"]) == 0
    invariants = stack.inventory.get("/v1/invariants").json()
    assert invariants["ledger_matches_balances"] is True

    def booked() -> list[str]:
        entries = stack.finance.get("/v1/journal", source_id=order_id).json()
        return sorted(e["source_type"] for e in entries)

    expected = ["payment_capture", "sale", "stock_issue", "stock_issue"]
    eventually(lambda: booked() == expected, what="sale, capture and cost of goods booked")
    balance = stack.finance.get("/v1/trial-balance").json()
    assert balance["balanced"] is True
    assert stack.finance.get(f"/v1/payments/{order_id}").json()["status"] == "captured"
