"""The demo's returning customers and its returns desk: authorize, receive, grade, refund.

Customer service authorizes a return, the warehouse receives and grades the goods, and a finance
person approves a refund that needs one."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import httpx

from keel_cli.demo.catalog import expect

# How inspected units grade: most resell, some need refurbishing, a few are damaged or scrap.
GRADES = ("A", "B", "C", "D")
GRADE_WEIGHTS = (0.55, 0.2, 0.15, 0.1)
FINAL = frozenset({"refunded", "closed"})
REASONS = ("too small", "not as described", "changed my mind", "arrived damaged")


async def take_back(
    returns: httpx.AsyncClient,
    order: httpx.AsyncClient,
    fulfillment: httpx.AsyncClient,
    delivered: list[str],
    share: float,
    rng: random.Random,
    on_done: Callable[[], None],
    *,
    warehouse: httpx.AsyncClient,
    finance: httpx.AsyncClient,
    patience: float,
) -> int:
    """A `share` of the delivered orders come back: each return is authorized for one line
    (customer service's `returns`, `order` and `fulfillment`), received where the order shipped
    from and graded unit by unit (`warehouse`, at the returns service), and its refund approved
    by `finance` (a finance person there) when it needs a person. Returns how many returns were
    opened; waits until they are all settled."""
    chosen = rng.sample(delivered, k=round(len(delivered) * share))
    plans = [(order_id, rng.random(), rng.random(), rng.randrange(10**6)) for order_id in chosen]
    limit = asyncio.Semaphore(8)

    async def one(order_id: str, pick: float, portion: float, grade_seed: int) -> str:
        async with limit:
            shown = (await order.get(f"/v1/orders/{order_id}")).json()
            line = shown["lines"][int(pick * len(shown["lines"]))]
            quantity = 1 + int(portion * line["shipped"])
            reason = REASONS[grade_seed % len(REASONS)]
            wanted = [{"sku": line["sku"], "quantity": quantity, "reason": reason}]
            body = {"order_id": order_id, "lines": wanted}
            created = await returns.post("/v1/returns", json=body)
            expect(created, 201)
            return_id: str = created.json()["return_id"]
            params = {"order_id": order_id}
            shipments = (await fulfillment.get("/v1/shipments", params=params)).json()
            units = [{"sku": line["sku"], "quantity": quantity}]
            receipt = {"location_id": shipments[0]["location_id"], "lines": units}
            expect(await warehouse.post(f"/v1/returns/{return_id}/receipt", json=receipt), 200)
            graded = _grades(line["sku"], quantity, random.Random(grade_seed))
            inspected = await warehouse.post(
                f"/v1/returns/{return_id}/inspection", json={"lines": graded}
            )
            expect(inspected, 200)
            for refund in inspected.json()["refunds"]:
                if refund["status"] == "pending_approval":
                    # The approver is the caller, as their token says: the body names nobody.
                    path = f"/v1/refunds/{refund['refund_id']}/approve"
                    expect(await finance.post(path), 200)
            return return_id

    opened = await asyncio.gather(*(one(*plan) for plan in plans))
    await _settled(returns, list(opened), on_done, patience)
    return len(opened)


async def _settled(
    returns: httpx.AsyncClient, return_ids: list[str], on_done: Callable[[], None], patience: float
) -> None:
    """Wait until every return is refunded or closed (finance answers asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    waiting = set(return_ids)
    while waiting and loop.time() < deadline:
        for return_id in list(waiting):
            shown: dict[str, Any] = (await returns.get(f"/v1/returns/{return_id}")).json()
            if shown["status"] in FINAL:
                waiting.discard(return_id)
                on_done()
        if waiting:
            await asyncio.sleep(0.5)


def _grades(sku: str, quantity: int, rng: random.Random) -> list[dict[str, Any]]:
    """Grade each unit, one inspection line per grade found."""
    counts: dict[str, int] = {}
    for grade in rng.choices(GRADES, weights=GRADE_WEIGHTS, k=quantity):
        counts[grade] = counts.get(grade, 0) + 1
    return [{"sku": sku, "quantity": n, "grade": grade} for grade, n in sorted(counts.items())]
