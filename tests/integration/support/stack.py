"""The services of an order's life, started for one scenario, and what scenarios ask of them.

Each step is taken by the person whose job it is (`people`): customer service places and cancels
orders, the warehouse posts its events; what only reads asks as the admin. A scenario with steps
of its own subclasses `Stack` in its test file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.integration.support import people, stocking
from tests.integration.support.polling import eventually
from tests.integration.support.services import ServiceProcess, StartService


class Stack:
    """Inventory, finance and order always; fulfillment, returns and procurement when asked."""

    def __init__(
        self,
        start_service: StartService,
        *,
        fulfillment: bool = False,
        returns: bool = False,
        procurement: bool = False,
    ) -> None:
        self.inventory = start_service("inventory")
        # Finance's inventory reconciliation asks inventory; without its URL it answers 503.
        self.finance = start_service(
            "finance", env={"KEEL_FINANCE_INVENTORY_URL": self.inventory.url}
        )
        self.order = start_service("order")
        self._fulfillment = start_service("fulfillment") if fulfillment else None
        self._returns = start_service("returns") if returns else None
        self._procurement = start_service("procurement") if procurement else None

    @property
    def fulfillment(self) -> ServiceProcess:
        assert self._fulfillment is not None, "start the stack with fulfillment=True"
        return self._fulfillment

    @property
    def returns(self) -> ServiceProcess:
        assert self._returns is not None, "start the stack with returns=True"
        return self._returns

    @property
    def procurement(self) -> ServiceProcess:
        assert self._procurement is not None, "start the stack with procurement=True"
        return self._procurement

    def stock(
        self, sku: str, at: Mapping[str, int], *, unit_cost: str = stocking.UNIT_COST
    ) -> None:
        """Stock a new SKU at each location of `at` (zero: known there, nothing on hand), and
        wait until the order service, which accepts only SKUs it knows, has it."""
        stocking.stock(self.inventory, sku, at, unit_cost=unit_cost)
        eventually(
            lambda: self.order.get(f"/v1/replicas/items/{sku}").status_code == 200,
            what="the order service to know the SKU",
        )

    def receive(self, sku: str, location_id: str, quantity: int) -> str:
        return stocking.receive(self.inventory, sku, location_id, quantity)

    def availability(self, sku: str) -> dict[str, Any]:
        response = self.inventory.get(f"/v1/availability/{sku}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def available(self, sku: str) -> int:
        available: int = self.availability(sku)["available_to_sell"]
        return available

    def place(self, body: dict[str, Any]) -> str:
        response = self.order.as_person(people.CUSTOMER_SERVICE).post(
            "/v1/orders", body, headers={"Idempotency-Key": body["external_id"]}
        )
        assert response.status_code == 202, response.text
        order_id: str = response.json()["order_id"]
        return order_id

    def cancel(self, order_id: str) -> dict[str, Any]:
        """Cancel the order as customer service would, at the customer's request."""
        response = self.order.as_person(people.CUSTOMER_SERVICE).post(
            f"/v1/orders/{order_id}/cancel", {"reason": "customer asked"}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def view(self, order_id: str) -> dict[str, Any]:
        response = self.order.get(f"/v1/orders/{order_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def status(self, order_id: str) -> str:
        status: str = self.view(order_id)["status"]
        return status

    def wait_status(self, order_id: str, status: str) -> None:
        """Wait for the status; on a timeout, show the order (its history, its holds)."""
        try:
            eventually(lambda: self.status(order_id) == status, what=f"the order {status}")
        except AssertionError as error:
            view = self.view(order_id)
            raise AssertionError(f"{error}; the order: {view}\n{self.order.tail()}") from None

    def settled(
        self, order_ids: list[str], *, not_in: tuple[str, ...] = ("validating",)
    ) -> dict[str, str]:
        """Each order's status, once none is in `not_in`; empty until then."""
        statuses = {order_id: self.status(order_id) for order_id in order_ids}
        return statuses if not any(s in not_in for s in statuses.values()) else {}

    def payment(self, order_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.finance.get(f"/v1/payments/{order_id}").json()
        return body

    def shipments(self, order_id: str) -> list[dict[str, Any]]:
        """The order's shipments fulfillment has planned so far."""
        response = self.fulfillment.get("/v1/shipments", order_id=order_id)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    def planned(self, order_id: str, count: int = 1) -> list[dict[str, Any]]:
        """The order's shipments, once fulfillment has planned `count` of them."""

        def planned() -> list[dict[str, Any]]:
            found = self.shipments(order_id)
            return found if len(found) == count else []

        return eventually(planned, what=f"{count} shipment(s) planned")

    def walk(self, shipment: dict[str, Any], *, to: str = "delivered") -> None:
        """Post the warehouse's events for a shipment, from picked up to `to`."""
        steps = ("picked", "packed", "shipped", "delivered")
        for step in steps[: steps.index(to) + 1]:
            body = {
                "event_id": f"{shipment['shipment_id']}-{step}",
                "type": step,
                "shipment_id": shipment["shipment_id"],
                "carrier": "UPS",
                "tracking_number": f"1Z{step}",
            }
            response = self.fulfillment.as_person(people.WAREHOUSE).post(
                f"/v1/warehouses/{shipment['location_id']}/events", body
            )
            assert response.status_code == 202, response.text

    def deliver(self, order_id: str) -> None:
        """Release, ship and deliver a single-shipment order (as the order service sees it:
        the other services learn of the shipment from their own consumers)."""
        self.wait_status(order_id, "released")
        [shipment] = self.planned(order_id)
        self.walk(shipment)
        self.wait_status(order_id, "delivered")
