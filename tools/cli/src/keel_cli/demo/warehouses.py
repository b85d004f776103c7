"""The demo's warehouses and its cancelling customers, driving orders to their end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import httpx

from keel_cli.demo.shoppers import Placed

# Where an order stops moving without a person (backorders move again when goods arrive).
SETTLED = frozenset({"delivered", "closed", "rejected", "cancelled", "backordered", "on_hold"})
CANCELLABLE = frozenset({"validating", "backordered", "on_hold", "confirmed", "released"})
NEXT_EVENT = {"created": "picked", "picked": "packed", "packed": "shipped", "shipped": "delivered"}


async def drive(
    order: httpx.AsyncClient,
    fulfillment: httpx.AsyncClient,
    placed: list[Placed],
    on_settled: Callable[[int], None],
    *,
    patience: float,
    settled: frozenset[str] = SETTLED,
    concurrency: int = 16,
    systems: Mapping[str, httpx.AsyncClient] | None = None,
) -> dict[str, str]:
    """Move every order along until its status is in `settled` (or `patience` seconds pass);
    returns final statuses. Shipment events go through `systems` (each warehouse's system,
    signing as its location) when given, else as the `fulfillment` client's person."""
    statuses: dict[str, str] = {}
    limit = asyncio.Semaphore(concurrency)
    cancel_sent: set[str] = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience

    async def step(p: Placed) -> None:
        async with limit:
            status = (await order.get(f"/v1/orders/{p.order_id}")).json()["status"]
            if p.cancel and p.order_id not in cancel_sent and status in CANCELLABLE:
                cancel_sent.add(p.order_id)
                await order.post(
                    f"/v1/orders/{p.order_id}/cancel",
                    json={"reason": "customer changed their mind"},
                )
                return
            if status in ("released", "partially_shipped", "shipped"):
                await _advance_shipments(fulfillment, p.order_id, systems)
            waiting_to_cancel = p.cancel and status in CANCELLABLE
            if status in settled and not waiting_to_cancel and p.order_id not in statuses:
                statuses[p.order_id] = status
                on_settled(1)

    while len(statuses) < len(placed) and loop.time() < deadline:
        await asyncio.gather(*(step(p) for p in placed if p.order_id not in statuses))
        await asyncio.sleep(0.2)
    for p in placed:  # whatever did not settle is reported as it stands
        if p.order_id not in statuses:
            statuses[p.order_id] = (await order.get(f"/v1/orders/{p.order_id}")).json()["status"]
    return statuses


async def _advance_shipments(
    fulfillment: httpx.AsyncClient,
    order_id: str,
    systems: Mapping[str, httpx.AsyncClient] | None = None,
) -> None:
    """Each call moves every shipment of the order one warehouse step further."""
    shipments = (await fulfillment.get("/v1/shipments", params={"order_id": order_id})).json()
    for shipment in shipments:
        event = NEXT_EVENT.get(shipment["status"])
        if event is None:
            continue
        body = {
            "event_id": f"{shipment['shipment_id']}-{event}",
            "type": event,
            "shipment_id": shipment["shipment_id"],
        }
        if event == "shipped":
            body |= {"carrier": "UPS", "tracking_number": f"1Z{shipment['shipment_id'][-10:]}"}
        location = shipment["location_id"]
        reporter = systems[location] if systems else fulfillment
        await reporter.post(f"/v1/warehouses/{location}/events", json=body)
