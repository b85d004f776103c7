"""The bench as the warehouses: every shipment fulfillment creates is reported shipped, so the
orders go on to their payment capture and the sale's journal posting, the end of their path.

Reports go through fulfillment's own door for a warehouse system's batches (`POST
/v1/warehouses/{location_id}/events/batch`), signed by that location's system as `keel demo`'s
warehouses sign theirs. Real warehouse systems send their events in batches, and a signed
request costs fulfillment several transactions of its own (the signature's secrets, the webhook
id, the answer kept), so one request per shipment would measure the door, not the path.

A free request slot sends whatever one location has queued, up to `BATCH`: at a low rate a
batch holds a shipment or two and waits for nothing, under load the queue grows while the slots
are busy and the batches with it. A real warehouse takes hours to pick and pack; this one ships
at once, so the bench measures the services, not the shelves. It runs in the bench's own
process, so its CPU is counted in "bench driver".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from keel_cli.bench_clock import CreatedShipment
from keel_kit.stats import percentile

# Requests in flight to fulfillment, at most: enough that one location's slow answer does not
# hold back the others', few enough that what queues meanwhile goes out in one request.
CONCURRENCY = 4
BATCH = 200  # shipments per request, at most (fulfillment takes 500)
ATTEMPTS = 5  # per shipment, for answers that say "try again" (5xx, 429) or no answer at all
ACCEPTED = 202  # an event's status in a batch's results when it was applied (or already was)


def shipped_event(shipment_id: str) -> dict[str, str]:
    """A warehouse's "shipped" report, in the shape and event-id scheme `keel demo`'s
    warehouses use (keel_cli.demo.warehouses), so either retrying the other's is idempotent.
    A warehouse may skip reporting picked and packed."""
    return {
        "event_id": f"{shipment_id}-shipped",
        "type": "shipped",
        "shipment_id": shipment_id,
        "carrier": "UPS",
        "tracking_number": f"1Z{shipment_id[-10:]}",
    }


def _worth_retrying(status: int) -> bool:
    """Overloaded or failing for now: asking again may get another answer."""
    return status >= 500 or status == 429


class Warehouse:
    """Ships what it is given, through `systems` (each location's signed client), in batches
    of at most `batch` per location, with at most `concurrency` requests in flight; counts what
    it reported and what it could not."""

    def __init__(
        self,
        systems: Mapping[str, httpx.AsyncClient],
        concurrency: int = CONCURRENCY,
        retry_pause: float = 0.5,
        batch: int = BATCH,
    ) -> None:
        self._systems = systems
        self._concurrency = concurrency
        self._retry_pause = retry_pause
        self._batch = batch
        # Shipments not yet sent, oldest first, by location; a location is in `_ready` exactly
        # while it has some, so a free slot takes the location waiting longest.
        self._waiting: dict[str, list[CreatedShipment]] = {}
        self._ready: asyncio.Queue[str] = asyncio.Queue()
        self._unfinished = 0  # given, and neither reported nor given up on yet
        self._finished = asyncio.Event()
        self._finished.set()
        self._workers: list[asyncio.Task[None]] = []
        self.reported = 0
        self.not_reported: dict[str, int] = {}  # why (an HTTP status, an error) -> shipments
        self.requests = 0  # batches fulfillment answered
        self.answered = 0  # shipments in those batches
        self.largest_batch = 0
        # Seconds each answered batch took: fulfillment's answer time under the load, so a
        # slow door shows apart from a slow pipeline.
        self.answer_seconds: list[float] = []

    def ship(self, shipment: CreatedShipment) -> None:
        """Report `shipment` shipped, with what else its location has queued, as soon as a
        request slot is free."""
        waiting = self._waiting.setdefault(shipment.location_id, [])
        if not waiting:
            self._ready.put_nowait(shipment.location_id)
        waiting.append(shipment)
        self._unfinished += 1
        self._finished.clear()

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._work()) for _ in range(self._concurrency)]

    async def idle(self) -> None:
        """Return once every shipment given so far has been reported (or given up on)."""
        await self._finished.wait()

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    def document(self) -> dict[str, object]:
        def ms(share: float) -> float | None:
            value = percentile(self.answer_seconds, share)
            return None if value is None else round(value * 1000, 1)

        return {
            "reported_shipped": self.reported,
            "not_reported": dict(self.not_reported),
            "waiting": sum(len(w) for w in self._waiting.values()),
            "concurrency": self._concurrency,
            "requests": self.requests,
            "shipments_per_request": round(self.answered / self.requests, 1)
            if self.requests
            else None,
            "largest_batch": self.largest_batch,
            "answer_p50_ms": ms(0.50),
            "answer_p99_ms": ms(0.99),
        }

    async def _work(self) -> None:
        while True:
            location = await self._ready.get()
            waiting = self._waiting[location]
            batch, waiting[:] = waiting[: self._batch], waiting[self._batch :]
            if waiting:  # more than one request's worth: the next free slot takes the rest
                self._ready.put_nowait(location)
            await self._report(location, batch)

    async def _report(self, location: str, batch: list[CreatedShipment]) -> None:
        system = self._systems.get(location)
        if system is None:
            self._give_up(batch, f"no warehouse system for {location}")
            return
        pending, outcome = batch, ""
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(self._retry_pause * attempt)
            asked = time.monotonic()
            try:
                response = await system.post(
                    f"/v1/warehouses/{location}/events/batch",
                    json={"events": [shipped_event(s.shipment_id) for s in pending]},
                )
            except httpx.HTTPError as error:
                outcome = type(error).__name__
                continue
            if response.status_code != 200:
                outcome = f"HTTP {response.status_code}"
                if _worth_retrying(response.status_code):
                    continue
                break  # refused for good: asking again gets the same answer
            self.answer_seconds.append(time.monotonic() - asked)
            self.requests += 1
            self.answered += len(pending)
            self.largest_batch = max(self.largest_batch, len(pending))
            pending, outcome = self._count(pending, response)
            if not pending:
                return
        self._give_up(pending, outcome)

    def _count(
        self, sent: list[CreatedShipment], response: httpx.Response
    ) -> tuple[list[CreatedShipment], str]:
        """Count each shipment of an answered batch by its own result; return those worth
        sending again and why."""
        statuses = _result_statuses(response, len(sent))
        if statuses is None:
            self._give_up(sent, "unreadable answer")
            return [], ""
        again: list[CreatedShipment] = []
        outcome = ""
        for shipment, status in zip(sent, statuses, strict=True):
            if status == ACCEPTED:
                self._finish(1)
                self.reported += 1
            elif _worth_retrying(status):
                again.append(shipment)
                outcome = f"HTTP {status}"
            else:
                self._give_up([shipment], f"HTTP {status}")
        return again, outcome

    def _give_up(self, shipments: Sequence[CreatedShipment], why: str) -> None:
        self.not_reported[why] = self.not_reported.get(why, 0) + len(shipments)
        self._finish(len(shipments))

    def _finish(self, count: int) -> None:
        self._unfinished -= count
        if self._unfinished == 0:
            self._finished.set()


def _result_statuses(response: httpx.Response, count: int) -> list[int] | None:
    """Each event's status, in the order sent, or None if the answer does not say."""
    try:
        results: list[Any] = response.json()["results"]
        statuses = [int(result["status"]) for result in results]
    except (ValueError, KeyError, TypeError):
        return None
    return statuses if len(statuses) == count else None
